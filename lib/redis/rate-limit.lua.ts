/**
 * Decides a batch of rate-limit decisions in one call; each decision is atomic over
 * its rules (all admit and all count, or none counts). Time is the server's (TIME).
 * It mirrors lib/core/rate-limiter/algorithms.ts; state is a hash {a, b, c} per key.
 *
 * ARGV: n, then per decision: op (1 consume, 2 peek, 3 reset), cost, rules, then per
 * rule: strategy (1 token bucket, 2 fixed window, 3 sliding window), capacity C,
 * window W (ms), rate. KEYS: one per rule, in order.
 * Returns per rule: allowed (0/1), remaining, retryAfter (ms, ceil), resetAfter (ms, ceil).
 */
export const RATE_LIMIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local out = {}
local ai = 2
local ki = 1
local n = tonumber(ARGV[1])
for d = 1, n do
  local op = tonumber(ARGV[ai]); local cost = tonumber(ARGV[ai + 1]); local r = tonumber(ARGV[ai + 2])
  ai = ai + 3
  local all = true
  local res = {}
  for i = 1, r do
    local strat = tonumber(ARGV[ai]); local C = tonumber(ARGV[ai + 1]); local W = tonumber(ARGV[ai + 2]); local rate = tonumber(ARGV[ai + 3])
    ai = ai + 4
    local key = KEYS[ki]
    ki = ki + 1
    local x = { key = key, ok = 1, rem = 0, retry = 0, reset = 0 }
    if op == 3 then
      redis.call('DEL', key)
    else
      local s = redis.call('HMGET', key, 'a', 'b', 'c')
      local sa = tonumber(s[1]) or 0
      local sb = tonumber(s[2]) or 0
      local sc = tonumber(s[3]) or 0
      if strat == 1 then
        local T = W / rate
        local tat = math.max(sa, now)
        local newTat = tat + cost * T
        local allowAt = newTat - C * T
        if allowAt <= now then
          x.rem = math.floor((now + C * T - newTat) / T + 1e-9); x.reset = newTat - now
          x.a = newTat; x.b = 0; x.c = 0; x.ttl = newTat - now
        else
          x.ok = 0; x.rem = math.max(0, math.floor((now + C * T - tat) / T + 1e-9)); x.retry = allowAt - now; x.reset = tat - now
        end
      elseif strat == 2 then
        local w = math.floor(now / W)
        local count = 0
        if sa == w then count = sb end
        local windowEnd = (w + 1) * W - now
        x.reset = windowEnd
        if count + cost <= C then
          x.rem = C - count - cost; x.a = w; x.b = count + cost; x.c = 0; x.ttl = windowEnd
        else
          x.ok = 0; x.rem = math.max(0, C - count); x.retry = windowEnd
        end
      else
        local w = math.floor(now / W)
        local cur = 0
        local prev = 0
        if sa == w then cur = sb; prev = sc elseif sa == w - 1 then prev = sb end
        local f = (now - w * W) / W
        local est = prev * (1 - f) + cur
        x.reset = (w + 2) * W - now
        if est + cost <= C then
          x.rem = math.max(0, math.floor(C - est - cost + 1e-9)); x.a = w; x.b = cur + cost; x.c = prev; x.ttl = x.reset
        else
          x.ok = 0; x.rem = math.max(0, math.floor(C - est + 1e-9))
          if cur + cost <= C and prev > 0 then
            x.retry = math.max(0, w * W + (1 - (C - cur - cost) / prev) * W - now)
          else
            local g = 0
            if cur > 0 then g = math.max(0, 1 - (C - cost) / cur) end
            x.retry = (w + 1) * W + g * W - now
          end
        end
      end
      if x.ok == 0 then all = false end
    end
    res[i] = x
  end
  for i = 1, r do
    local x = res[i]
    if op == 1 and all and x.a then
      redis.call('HSET', x.key, 'a', string.format('%.17g', x.a), 'b', x.b, 'c', x.c)
      redis.call('PEXPIRE', x.key, math.max(1, math.ceil(x.ttl)))
    end
    local rem = x.rem
    local allowed = 1
    if not all then
      allowed = 0
      if x.ok == 1 then rem = rem + cost end
    end
    if op == 3 then allowed = 1 end
    out[#out + 1] = allowed
    out[#out + 1] = rem
    out[#out + 1] = math.ceil(x.retry)
    out[#out + 1] = math.ceil(x.reset)
  end
end
return out
`;
