-- ordering: ARGV P, tenant, endpoint, ordered (1/0), now. Records the endpoint's ordering and
-- applies it at once to every delivery held for it (Queue::set_ordering): to ordered, the
-- scheduled retries join the lane and the lane is sorted in push order; to unordered, what is
-- not due yet leaves the lane for a timer. Leased ones keep their lease under the new mode.
-- Walks the timers and leases of every endpoint: a switch is rare. Answers 1.
local tenant, ep, mode, now = ARGV[2], ARGV[3], ARGV[4], num(ARGV[5])
redis.call('HSET', P .. 'om', ep, mode)
redis.call('HSET', P .. 'omt', ep, tenant)
local q = P .. 'q:' .. ep
local waiting = redis.call('LRANGE', q, 0, -1)
local function mine(id)
  return redis.call('HGET', P .. 'd:' .. id, 'e') == ep
end
for _, id in ipairs(redis.call('ZRANGE', P .. 'lz', 0, -1)) do
  if mine(id) then
    redis.call('HSET', P .. 'd:' .. id, 'o', mode)
  end
end
if mode == '1' then
  for _, m in ipairs(redis.call('ZRANGE', P .. 'z', 0, -1)) do
    if string.sub(m, 1, 2) == 'd:' and mine(string.sub(m, 3)) then
      redis.call('ZREM', P .. 'z', m)
      waiting[#waiting + 1] = string.sub(m, 3)
    end
  end
end
local sq = {}
for _, id in ipairs(waiting) do
  redis.call('HSET', P .. 'd:' .. id, 'o', mode)
  sq[id] = num(redis.call('HGET', P .. 'd:' .. id, 'sq'))
end
redis.call('DEL', q)
if mode == '1' then
  table.sort(waiting, function(a, b)
    return sq[a] < sq[b]
  end)
  for _, id in ipairs(waiting) do
    redis.call('RPUSH', q, id)
  end
  wake_for_head(ep, now)
else
  redis.call('ZREM', P .. 'z', 'w:' .. ep)
  for _, id in ipairs(waiting) do
    local nb = redis.call('HGET', P .. 'd:' .. id, 'nb')
    if num(nb) > now then
      redis.call('ZADD', P .. 'z', nb, 'd:' .. id)
    else
      redis.call('RPUSH', q, id)
    end
  end
end
if redis.call('LLEN', q) > 0 then
  lane_of(ep, tenant)
  activate(ep)
  redis.call('PUBLISH', P .. 'ready', '1')
end
return 1
