import { OP_IDS_LUA } from '../op-ids.js';

/**
 * One circuit breaker's state machine, shared by every replica, as one script: each call
 * is atomic. Time is the server's (TIME), unless ARGV[2] gives it (tests' clock).
 *
 * KEYS: 1 state hash, 2 half-open leases (zset: lease id -> expiry), 3 rate window,
 * 4 live replicas (zset: id -> expiry), 5 open replicas (zset; quorum scope).
 * ARGV: 1 op, 2 now or -1, 3 channel, 4 name, 5 settings
 * ("failureThreshold|successThreshold|openMs|multiplier|maxOpenMs|halfOpenMax|leaseMs|
 * windowType|windowSize|minimumCalls|failureRate|slowRate", -1 = none), 6 the operation id
 * ('' for none: a repeat of 'fail' or 'ok' with the same id counts once, see op-ids.ts),
 * then the op's.
 *
 * The consecutive count is `fseq - resetAt`: fseq counts every failure ever recorded,
 * resetAt is the highest fseq a replica had seen when it reported a success. Successes
 * come late, in batches; a failure they could not have seen stays counted.
 *
 * Every op but the quorum ones returns {state, gen, openUntil, forced, now, fseq, epoch,
 * granted}; a transition publishes the same fields (JSON) on the channel.
 */
export const CIRCUIT_LUA: string = `
local op = ARGV[1]
local now = tonumber(ARGV[2])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
${OP_IDS_LUA}
local channel, name, opId = ARGV[3], ARGV[4], ARGV[6]
local cfg = {}
for v in string.gmatch(ARGV[5], '[^|]+') do cfg[#cfg + 1] = tonumber(v) end
local threshold, successThreshold, openMs, multiplier, maxOpenMs = cfg[1], cfg[2], cfg[3], cfg[4], cfg[5]
local halfOpenMax, leaseMs, windowType, windowSize, minimumCalls = cfg[6], cfg[7], cfg[8], cfg[9], cfg[10]
local failureRate, slowRate = cfg[11], cfg[12]
local S, LEASES, WINDOW, REPLICAS, OPEN = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local KEEP = 7 * 24 * 3600 * 1000

local h = redis.call('HMGET', S, 'state', 'gen', 'openUntil', 'forced', 'fseq', 'resetAt', 'succ', 'reopens', 'epoch')
local state = h[1] or 'closed'
local gen = tonumber(h[2] or '0')
local openUntil = tonumber(h[3] or '0')
local forced = tonumber(h[4] or '0')
local fseq = tonumber(h[5] or '0')
local resetAt = tonumber(h[6] or '0')
local succ = tonumber(h[7] or '0')
local reopens = tonumber(h[8] or '0')
local epoch = h[9] or tostring(now)
local granted = 0

local function reply()
  return {state, gen, openUntil, forced, now, fseq, epoch, granted}
end
local function save()
  redis.call('HSET', S, 'state', state, 'gen', gen, 'openUntil', openUntil, 'forced', forced, 'fseq', fseq,
    'resetAt', resetAt, 'succ', succ, 'reopens', reopens, 'epoch', epoch)
  redis.call('PEXPIRE', S, KEEP)
end

-- The rate window: a ring of outcome bytes (count) or per-second buckets (time).
local function windowRecord(fails, slows, calls)
  if windowType == 1 then
    local w = redis.call('HMGET', WINDOW, 'next', 'filled', 'failures', 'slow')
    local nxt, filled, failures, slow = tonumber(w[1] or '0'), tonumber(w[2] or '0'), tonumber(w[3] or '0'), tonumber(w[4] or '0')
    local ring = WINDOW .. ':ring'
    if calls > windowSize then
      -- Only the last windowSize outcomes stay (failures come first in a batch, slow calls last).
      local dropped = calls - windowSize
      fails = math.max(0, fails - dropped)
      slows = math.min(slows, windowSize)
      calls = windowSize
    end
    for i = 1, calls do
      local flag = 0
      if i <= fails then flag = 1 end
      if i > calls - slows then flag = flag + 2 end
      if filled == windowSize then
        local old = string.byte(redis.call('GETRANGE', ring, nxt, nxt)) or 48
        old = old - 48
        if old % 2 == 1 then failures = failures - 1 end
        if old >= 2 then slow = slow - 1 end
      else
        filled = filled + 1
      end
      redis.call('SETRANGE', ring, nxt, string.char(48 + flag))
      if flag % 2 == 1 then failures = failures + 1 end
      if flag >= 2 then slow = slow + 1 end
      nxt = (nxt + 1) % windowSize
    end
    redis.call('HSET', WINDOW, 'next', nxt, 'filled', filled, 'failures', failures, 'slow', slow)
    redis.call('PEXPIRE', WINDOW, KEEP)
    redis.call('PEXPIRE', ring, KEEP)
    return filled, failures, slow
  end
  local second = math.floor(now / 1000)
  redis.call('HINCRBY', WINDOW, 'c' .. second, calls)
  if fails > 0 then redis.call('HINCRBY', WINDOW, 'f' .. second, fails) end
  if slows > 0 then redis.call('HINCRBY', WINDOW, 's' .. second, slows) end
  local old = second - windowSize
  redis.call('HDEL', WINDOW, 'c' .. old, 'f' .. old, 's' .. old)
  redis.call('PEXPIRE', WINDOW, (windowSize + 1) * 1000)
  local total, failures, slow = 0, 0, 0
  for s = second - windowSize + 1, second do
    local b = redis.call('HMGET', WINDOW, 'c' .. s, 'f' .. s, 's' .. s)
    total = total + tonumber(b[1] or '0')
    failures = failures + tonumber(b[2] or '0')
    slow = slow + tonumber(b[3] or '0')
  end
  return total, failures, slow
end
local function rateOpens(fails, slows, calls)
  if windowType == 0 or calls == 0 then return false end
  local total, failures, slow = windowRecord(fails, slows, calls)
  if total < minimumCalls then return false end
  return (failureRate >= 0 and failures * 100 > failureRate * total) or (slowRate >= 0 and slow * 100 > slowRate * total)
end

local function transition(to)
  state = to
  gen = gen + 1
  succ = 0
  redis.call('DEL', LEASES)
  if to == 'closed' then
    reopens = 0
    resetAt = fseq
    redis.call('DEL', WINDOW, WINDOW .. ':ring')
  end
  save()
  redis.call('PUBLISH', channel, cjson.encode({name = name, state = state, gen = gen, openUntil = openUntil,
    forced = forced, now = now, fseq = fseq, epoch = epoch}))
end
local function open(fromHalfOpen)
  if fromHalfOpen then reopens = reopens + 1 else reopens = 0 end
  local duration = math.min(maxOpenMs, openMs * multiplier ^ reopens)
  local floor = 0
  if openMs <= maxOpenMs then floor = openMs end
  openUntil = now + math.max(floor, duration)
  transition('open')
end

-- A record is made on first touch: its epoch must not change from one read to the next.
if not h[9] and op ~= 'beat' and op ~= 'leave' then save() end

if op == 'read' then
  return reply()
elseif op == 'fail' or op == 'ok' then
  local callerGen = tonumber(ARGV[7])
  -- A repeat (its first reply was lost) counts nothing again.
  if nrPrior(S, now, opId) then return reply() end
  nrRemember(S, now, opId, '1')
  if state ~= 'closed' or callerGen ~= gen then return reply() end
  local calls, slows, fails = 1, tonumber(ARGV[8]), 1
  if op == 'ok' then
    calls, fails = tonumber(ARGV[9]), 0
    local seen = math.min(tonumber(ARGV[10]), fseq)
    if seen > resetAt then resetAt = seen end
  else
    fseq = fseq + 1
  end
  local opens = rateOpens(fails, slows, calls)
  if opens or (threshold >= 0 and fseq - resetAt >= threshold) then open(false) else save() end
  return reply()
elseif op == 'trial' then
  if state == 'open' and forced == 0 and now >= openUntil then transition('half_open') end
  if state == 'half_open' then
    redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now)
    if redis.call('ZSCORE', LEASES, ARGV[7]) then
      -- A repeat of a granted request (its reply was lost): the lease is this caller's.
      granted = 1
    elseif redis.call('ZCARD', LEASES) < halfOpenMax then
      redis.call('ZADD', LEASES, now + leaseMs, ARGV[7])
      redis.call('PEXPIRE', LEASES, leaseMs + 1000)
      granted = 1
    end
  end
  return reply()
elseif op == 'trialEnd' then
  local callerGen, lease, outcome = tonumber(ARGV[7]), ARGV[8], ARGV[9]
  if state ~= 'half_open' or callerGen ~= gen then return reply() end
  if redis.call('ZREM', LEASES, lease) == 0 then return reply() end
  if outcome == 'success' then
    succ = succ + 1
    if succ >= successThreshold then transition('closed') else save() end
  elseif outcome == 'failure' then
    open(true)
  end
  return reply()
elseif op == 'forceOpen' then
  forced = 1
  openUntil = -1
  transition('open')
  return reply()
elseif op == 'forceClose' or op == 'reset' then
  forced = 0
  if op == 'reset' then reopens = 0 end
  transition('closed')
  return reply()
elseif op == 'beat' or op == 'leave' then
  local id, isOpen, ttl = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
  local changed = redis.call('ZREMRANGEBYSCORE', OPEN, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', REPLICAS, '-inf', now)
  if op == 'leave' then
    redis.call('ZREM', REPLICAS, id)
    changed = changed + redis.call('ZREM', OPEN, id)
  else
    redis.call('ZADD', REPLICAS, now + ttl, id)
    if isOpen == 1 then
      if redis.call('ZADD', OPEN, now + ttl, id) == 1 then changed = changed + 1 end
    else
      changed = changed + redis.call('ZREM', OPEN, id)
    end
    redis.call('PEXPIRE', REPLICAS, ttl * 2)
    redis.call('PEXPIRE', OPEN, ttl * 2)
  end
  local live, opened = redis.call('ZCARD', REPLICAS), redis.call('ZCARD', OPEN)
  -- The most replicas live in the last 10 minutes: a partition that silences some of them
  -- must not shrink the fleet a percentage quorum counts against.
  local p = redis.call('HMGET', S, 'peak', 'peakAt')
  local peak, peakAt = tonumber(p[1] or '0'), tonumber(p[2] or '0')
  if live >= peak or now - peakAt > 600000 then
    if live ~= peak then changed = changed + 1 end
    peak, peakAt = live, now
    redis.call('HSET', S, 'peak', peak, 'peakAt', peakAt)
    redis.call('PEXPIRE', S, KEEP)
  end
  if changed > 0 then
    redis.call('PUBLISH', channel, cjson.encode({name = name, live = live, open = opened, peak = peak}))
  end
  return {live, opened, now, peak}
end
return redis.error_reply('unknown op ' .. op)
`;
