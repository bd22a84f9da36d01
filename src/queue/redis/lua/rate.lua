-- rate: ARGV P, endpoint, delivery id, now (ms), interval (ms, 1000 / the rate, as a decimal),
-- tolerance (ms: (burst - 1) * interval), horizon (ms). One endpoint's rate limit, shared by
-- every process on the queue: the generic cell rate algorithm with each turn kept for the
-- delivery told to wait (delivery/rate_limiter.hpp keeps the same for one process). Answers 0
-- (go now) or the time to come back. P..'rl:'..ep hash: tat, and r:ID -> a reserved turn; it
-- expires once idle past its reservations.
local ep, id, now = ARGV[2], ARGV[3], num(ARGV[4])
local interval, tolerance, horizon = num(ARGV[5]), num(ARGV[6]), num(ARGV[7])
local k = P .. 'rl:' .. ep
local keep = math.floor(horizon * 2 + tolerance + interval)
local reserved = redis.call('HGET', k, 'r:' .. id)
if reserved then
  reserved = num(reserved)
  if now < reserved then
    return reserved -- back early: its turn stays
  end
  redis.call('HDEL', k, 'r:' .. id)
  -- On time (within one interval of its turn): it goes. Later, the turn is gone and it asks
  -- again like any, so that deliveries whose turns all passed meanwhile do not go at once.
  if now - reserved <= interval then
    return 0
  end
end
local tat = num(redis.call('HGET', k, 'tat'))
if tat < now then
  tat = now
end
local turn = tat - tolerance
if turn <= now then
  redis.call('HSET', k, 'tat', string.format('%.3f', tat + interval))
  redis.call('PEXPIRE', k, keep)
  return 0
end
if turn > now + horizon then
  return now + horizon
end
local at = math.ceil(turn)
redis.call('HSET', k, 'tat', string.format('%.3f', tat + interval), 'r:' .. id, str(at))
redis.call('PEXPIRE', k, keep)
return at
