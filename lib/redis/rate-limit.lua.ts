import { OP_IDS_LUA } from './op-ids.js';

/**
 * Decides a batch of rate-limit decisions in one call. Each decision is atomic over its
 * rules (all admit and all count, or none counts). Time is the server's (TIME). The
 * algorithms mirror lib/core/rate-limiter/algorithms.ts. A key's state is one string:
 * the TAT for a token bucket, "window|count|previous" for the windows.
 *
 * Decisions that are alike (same op, key, rules and cost) come as one group of `count`
 * decisions: the state is read once, the decisions are made one after another on it
 * (exactly as `count` separate calls would be), and written once.
 *
 * ARGV: the operation id ('' for none: see op-ids.ts), defs, then per rule definition: strategy (1 token bucket, 2 fixed window,
 * 3 sliding window), capacity C, window W (ms), rate; then groups, then per group: op
 * (1 consume, 2 peek, 3 reset), cost, count, rules, and the index of each rule's
 * definition. KEYS: per group, one per rule.
 * Returns per decision and rule: allowed (0/1), remaining, retryAfter ms, resetAfter ms.
 */
export const RATE_LIMIT_LUA: string = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
${OP_IDS_LUA}
local opId = ARGV[1]
local prior = nrPrior(KEYS[1], now, opId)
if prior then return cjson.decode(prior) end
local floor, max, ceil = math.floor, math.max, math.ceil
-- Whole milliseconds, rounded up, ignoring float noise (as the memory store's verdicts).
local function upMs(ms) return max(0, ceil(ms - 1e-6)) end

local function nextToken(tokens, C, T)
  local whole = floor(tokens + 1e-9)
  if whole >= C then return 0 end
  return max(0, (whole + 1 - tokens) * T)
end
local function slidingRetry(C, W, w, cur, prev, cost)
  if cur + cost <= C and prev > 0 then
    return max(0, w * W + (1 - (C - cur - cost) / prev) * W - now)
  end
  local g = 0
  if cur > 0 then g = max(0, 1 - (C - cost) / cur) end
  return (w + 1) * W + g * W - now
end
local function decide(strat, C, W, rate, sa, sb, sc, cost)
  if strat == 1 then
    local T = W / rate
    local tat = max(sa, now)
    local newTat = tat + cost * T
    local allowAt = newTat - C * T
    if allowAt <= now then
      local tokens = (now + C * T - newTat) / T
      return true, floor(tokens + 1e-9), 0, nextToken(tokens, C, T), newTat, 0, 0, newTat - now
    end
    local tokens = (now + C * T - tat) / T
    return false, max(0, floor(tokens + 1e-9)), allowAt - now, nextToken(tokens, C, T)
  elseif strat == 2 then
    local w = floor(now / W)
    local count = 0
    if sa == w then count = sb end
    local windowEnd = (w + 1) * W - now
    if count + cost <= C then
      return true, C - count - cost, 0, windowEnd, w, count + cost, 0, windowEnd
    end
    return false, max(0, C - count), windowEnd, windowEnd
  end
  local w = floor(now / W)
  local cur, prev = 0, 0
  if sa == w then cur = sb; prev = sc elseif sa == w - 1 then prev = sb end
  local est = prev * (1 - (now - w * W) / W) + cur
  local ttl = (w + 2) * W - now
  if est + cost <= C then
    local rem = max(0, floor(C - est - cost + 1e-9))
    local reset = math.min(W, slidingRetry(C, W, w, cur + cost, prev, rem + 1))
    return true, rem, 0, reset, w, cur + cost, prev, ttl
  end
  local rem = max(0, floor(C - est + 1e-9))
  return false, rem, slidingRetry(C, W, w, cur, prev, cost), math.min(W, slidingRetry(C, W, w, cur, prev, rem + 1))
end

local defs = {}
local ai = 2
local ndefs = tonumber(ARGV[ai]); ai = ai + 1
for i = 1, ndefs do
  defs[i] = { tonumber(ARGV[ai]), tonumber(ARGV[ai + 1]), tonumber(ARGV[ai + 2]), tonumber(ARGV[ai + 3]) }
  ai = ai + 4
end

local function load(key)
  local v = redis.call('GET', key)
  if not v then return 0, 0, 0 end
  local single = tonumber(v)
  if single then return single, 0, 0 end
  local p1, p2, p3 = string.match(v, '^([^|]*)|?([^|]*)|?([^|]*)$')
  return tonumber(p1) or 0, tonumber(p2) or 0, tonumber(p3) or 0
end

local function store(key, strat, a, b, c, ttl)
  local value
  if strat == 1 then value = string.format('%.17g', a) else value = string.format('%d|%d|%d', a, b, c) end
  redis.call('SET', key, value, 'PX', max(1, ceil(ttl)))
end

local out = {}
local o = 0
local ki = 1
local ngroups = tonumber(ARGV[ai]); ai = ai + 1
for g = 1, ngroups do
  local op = tonumber(ARGV[ai]); local cost = tonumber(ARGV[ai + 1]); local count = tonumber(ARGV[ai + 2]); local r = tonumber(ARGV[ai + 3])
  ai = ai + 4
  if r == 1 and op ~= 3 then
    -- One rule, the common case: no per-decision tables.
    local d = defs[tonumber(ARGV[ai])]; ai = ai + 1
    local key = KEYS[ki]; ki = ki + 1
    local a, b, c = load(key)
    local ttl
    for n = 1, count do
      local ok, rem, retry, reset, na, nb, nc, nt = decide(d[1], d[2], d[3], d[4], a, b, c, cost)
      if ok and op == 1 then a, b, c, ttl = na, nb, nc, nt end
      out[o + 1] = ok and 1 or 0; out[o + 2] = rem; out[o + 3] = upMs(retry); out[o + 4] = upMs(reset); o = o + 4
    end
    if ttl then store(key, d[1], a, b, c, ttl) end
  else
  local rules, keys, sa, sb, sc = {}, {}, {}, {}, {}
  for i = 1, r do
    rules[i] = defs[tonumber(ARGV[ai])]; ai = ai + 1
    keys[i] = KEYS[ki]; ki = ki + 1
    sa[i], sb[i], sc[i] = 0, 0, 0
    if op == 3 then
      redis.call('DEL', keys[i])
    else
      sa[i], sb[i], sc[i] = load(keys[i])
    end
  end
  local changed = false
  local ttl = {}
  for n = 1, count do
    if op == 3 then
      for i = 1, r do
        out[o + 1] = 1; out[o + 2] = rules[i][2]; out[o + 3] = 0; out[o + 4] = 0; o = o + 4
      end
    else
      local all = true
      local ok, rem, retry, reset, na, nb, nc, nt = {}, {}, {}, {}, {}, {}, {}, {}
      for i = 1, r do
        local d = rules[i]
        ok[i], rem[i], retry[i], reset[i], na[i], nb[i], nc[i], nt[i] = decide(d[1], d[2], d[3], d[4], sa[i], sb[i], sc[i], cost)
        if not ok[i] then all = false end
      end
      for i = 1, r do
        local allowed = 1
        local remaining = rem[i]
        if all then
          if op == 1 then
            sa[i], sb[i], sc[i], ttl[i] = na[i], nb[i], nc[i], nt[i]
            changed = true
          end
        else
          allowed = 0
          if ok[i] then remaining = remaining + cost end
        end
        out[o + 1] = allowed; out[o + 2] = remaining; out[o + 3] = upMs(retry[i]); out[o + 4] = upMs(reset[i]); o = o + 4
      end
    end
  end
  if changed then
    for i = 1, r do
      if ttl[i] then store(keys[i], rules[i][1], sa[i], sb[i], sc[i], ttl[i]) end
    end
  end
  end
end
nrRemember(KEYS[1], now, opId, cjson.encode(out))
return out
`;
