-- lease: ARGV P, now, max, lease_ms, tenant cap, endpoint cap, owner, sweep limit.
-- First gives back what expired and what fell due (at most `sweep` of each per call), then
-- serves the rotation one delivery per lane per turn. Answers {next due or -1, then 15 fields
-- per lease: token, deadline, hand-outs, id, tenant, endpoint, event id, event type, ordered,
-- prior attempts, not before, published, body id, body ('' when an earlier lease of this
-- answer carries the same body id), traceparent ('' when none, or pushed before it was kept)}.
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

-- The rotation. What this loop reads of a lane (tenant, leases out, head and the head's
-- fields) and of a tenant (leases out, busy lanes) is kept for the rest of the call, and what it
-- writes of them (their counts, the lane's place in the rotation, the lease records) is written
-- once at the end: only this loop touches them meanwhile, so a lane served again (the usual
-- case: one busy endpoint) costs per lease only its head's reads and the delivery's own write.
-- A lane that may hand out more goes to the back of the rotation kept here (`again`), which is
-- served once P..'a' is empty and pushed back onto it at the end: the order P..'a' alone gives.
local lanes, tenants = {}, {}
local function head_of(ep)
  local head = redis.call('LINDEX', P .. 'q:' .. ep, 0)
  if not head then
    return nil, nil
  end
  return head, redis.call('HMGET', P .. 'd:' .. head, 'o', 'nb', 't', 'v', 'y', 'p', 'pa', 'b', 'h', 'tp')
end
local function can_take(lane, t)
  if not lane.head or t.f >= tenant_cap then
    return false
  end
  local d = lane.hd
  if d[1] == '1' then
    return lane.f == 0 and num(d[2]) <= now
  end
  local other = t.b
  if lane.f > 0 then
    other = other - 1
  end
  return lane.f < share(tenant_cap, endpoint_cap, other)
end

local out = { 0 }
local sent = {}
local leased = 0
local again, again_at, again_n = {}, 1, 0  -- a queue: taken at again_at, added at again_n
local token, deadline = 0, now + lease_ms
local leased_ids = {}
local touched = {}  -- lanes and tenants whose counts moved, in the order first met
while leased < max do
  local ep = redis.call('LPOP', P .. 'a')
  if not ep then
    if again_at > again_n then
      break
    end
    ep = again[again_at]
    again[again_at] = nil
    again_at = again_at + 1
  end
  local lk = lane_key(ep)
  local lane = lanes[ep]
  if not lane then
    local l = redis.call('HMGET', lk, 't', 'f', 'l')
    if l[1] or l[2] or l[3] then  -- the lane exists (its hash has no other fields)
      lane = { t = l[1], f = num(l[2]), f0 = num(l[2]) }
      lane.head, lane.hd = head_of(ep)
      lanes[ep] = lane
    end
  end
  if lane then
    local tenant = lane.t
    local t = tenants[tenant]
    if not t then
      local v = redis.call('HMGET', P .. 't:' .. tenant, 'f', 'b')
      t = { f = num(v[1]), b = num(v[2]), f0 = num(v[1]), b0 = num(v[2]) }
      tenants[tenant] = t
    end
    if can_take(lane, t) then
      local id = redis.call('LPOP', P .. 'q:' .. ep)  -- lane.head
      local d = lane.hd
      -- took(), counted here and written at the end
      if not lane.moved then
        lane.moved = true
        touched[#touched + 1] = { ep, tenant }
      end
      lane.f = lane.f + 1
      if lane.f == 1 then
        t.b = t.b + 1
      end
      t.f = t.f + 1
      if token == 0 then  -- this call's tokens, taken at once
        token = redis.call('INCRBY', P .. 'tok', max) - max
      end
      token = token + 1
      local h = num(d[9]) + 1
      redis.call('HSET', P .. 'd:' .. id, 'h', str(h), 'k', str(token), 'dl', str(deadline), 'w', owner)
      leased_ids[#leased_ids + 1] = id
      local body = ''
      if not sent[d[8]] then
        sent[d[8]] = true
        body = redis.call('HGET', P .. 'b:' .. d[8], 'c')
      end
      for _, v in ipairs({ token, deadline, h, id, d[3], ep, d[4], d[5], d[1], d[6], d[2], d[7], d[8], body, d[10] or '' }) do
        out[#out + 1] = v
      end
      leased = leased + 1
      lane.head, lane.hd = head_of(ep)
    end
    -- More it may hand out now: stays in the rotation. Held back by its tenant's cap: parked
    -- with the tenant. Otherwise it comes back through a settle, a timer or an expiry.
    if lane.head and t.f >= tenant_cap then
      redis.call('HSET', lk, 'l', '1')
      redis.call('RPUSH', P .. 'tp:' .. tenant, ep)
    elseif can_take(lane, t) then
      again_n = again_n + 1
      again[again_n] = ep
    else
      redis.call('HSET', lk, 'l', '0')
      -- wake_for_head(), from what is kept
      if lane.head and lane.hd[1] == '1' and num(lane.hd[2]) > now then
        redis.call('ZADD', P .. 'z', lane.hd[2], 'w:' .. ep)
      end
    end
  end
end
-- What the loop kept: the lanes still in the rotation go back behind what is left of it (in a
-- lane's place there, its flag says it is listed), then the counts and the lease records.
local back = {}
for i = again_at, again_n do
  back[#back + 1] = again[i]
  redis.call('HSET', lane_key(again[i]), 'l', '1')
end
call_many('RPUSH', P .. 'a', back, 1)
for _, lt in ipairs(touched) do
  local ep, tenant = lt[1], lt[2]
  local lane = lanes[ep]
  redis.call('HINCRBY', lane_key(ep), 'f', lane.f - lane.f0)
  local t = tenants[tenant]
  if not t.written then
    t.written = true
    local tk = P .. 't:' .. tenant
    redis.call('HINCRBY', tk, 'f', t.f - t.f0)
    if t.b ~= t.b0 then
      redis.call('HINCRBY', tk, 'b', t.b - t.b0)
    end
  end
end
if leased > 0 then
  local zargs = {}
  for _, id in ipairs(leased_ids) do
    zargs[#zargs + 1] = str(deadline)
    zargs[#zargs + 1] = id
  end
  call_many('ZADD', P .. 'lz', zargs, 2)
  call_many('SADD', P .. 'o:' .. owner, leased_ids, 1)
  redis.call('HINCRBY', P .. 'm', 'leased', leased)
end
out[1] = next_due()
return out
