-- lease: ARGV P, now, max, lease_ms, tenant cap, endpoint cap, owner, sweep limit.
-- First gives back what expired and what fell due (at most `sweep` of each per call), then
-- serves the rotation one delivery per lane per turn. Answers {next due or -1, then 14 fields
-- per lease: token, deadline, hand-outs, id, tenant, endpoint, event id, event type, ordered,
-- prior attempts, not before, published, body id, body ('' when an earlier lease of this
-- answer carries the same body id)}.
local now, max, lease_ms = num(ARGV[2]), num(ARGV[3]), num(ARGV[4])
local tenant_cap, endpoint_cap, owner, sweep = num(ARGV[5]), num(ARGV[6]), ARGV[7], num(ARGV[8])

for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'lz', '-inf', str(now), 'LIMIT', 0, sweep)) do
  reclaim(id, now, tenant_cap)
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', P .. 'z', '-inf', str(now), 'LIMIT', 0, sweep)) do
  redis.call('ZREM', P .. 'z', m)
  local kind, rest = string.sub(m, 1, 2), string.sub(m, 3)
  if kind == 'd:' then
    local d = redis.call('HMGET', P .. 'd:' .. rest, 'e', 't')
    if d[1] then
      lane_of(d[1], d[2])
      if redis.call('HGET', P .. 'd:' .. rest, 'o') == '1' then
        insert_ordered(d[1], rest)
      else
        redis.call('RPUSH', P .. 'q:' .. d[1], rest)
      end
      activate(d[1])
    end
  elseif redis.call('EXISTS', lane_key(rest)) == 1 then
    activate(rest)
  end
end

local out = { 0 }
local sent = {}
local leased = 0
while leased < max do
  local ep = redis.call('LPOP', P .. 'a')
  if not ep then
    break
  end
  local lk = lane_key(ep)
  if redis.call('EXISTS', lk) == 1 then
    redis.call('HSET', lk, 'l', '0')
    if takeable(ep, now, tenant_cap, endpoint_cap) then
      local id = redis.call('LPOP', P .. 'q:' .. ep)
      local dk = P .. 'd:' .. id
      local d = redis.call('HMGET', dk, 't', 'v', 'y', 'o', 'p', 'nb', 'pa', 'b')
      took(ep, d[1])
      local h = redis.call('HINCRBY', dk, 'h', 1)
      local token = redis.call('INCR', P .. 'tok')
      local deadline = now + lease_ms
      redis.call('HSET', dk, 'k', str(token), 'dl', str(deadline), 'w', owner)
      redis.call('ZADD', P .. 'lz', deadline, id)
      redis.call('SADD', P .. 'o:' .. owner, id)
      redis.call('HINCRBY', P .. 'm', 'leased', 1)
      local body = ''
      if not sent[d[8]] then
        sent[d[8]] = true
        body = redis.call('HGET', P .. 'b:' .. d[8], 'c')
      end
      for _, v in ipairs({ token, deadline, h, id, d[1], ep, d[2], d[3], d[4], d[5], d[6], d[7], d[8], body }) do
        out[#out + 1] = v
      end
      leased = leased + 1
    end
    -- More it may hand out now: stays in the rotation. Held back by its tenant's cap: parked
    -- with the tenant. Otherwise it comes back through a settle, a timer or an expiry.
    local tenant = redis.call('HGET', lk, 't')
    if redis.call('LLEN', P .. 'q:' .. ep) > 0 and
        num(redis.call('HGET', P .. 't:' .. tenant, 'f')) >= tenant_cap then
      redis.call('HSET', lk, 'l', '1')
      redis.call('RPUSH', P .. 'tp:' .. tenant, ep)
    elseif takeable(ep, now, tenant_cap, endpoint_cap) then
      activate(ep)
    else
      wake_for_head(ep, now)
    end
  end
end
out[1] = next_due()
return out
