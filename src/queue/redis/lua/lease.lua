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

-- The rotation. What this loop reads of a lane (tenant, leases out, head and the head's
-- fields) and of a tenant (leases out, busy lanes) is kept for the rest of the call: only this
-- loop writes them meanwhile, so a lane served again (the usual case: one busy endpoint) costs
-- no reads but its next head. Answers as takeable() would.
local lanes, tenants = {}, {}
local function head_of(ep)
  local head = redis.call('LINDEX', P .. 'q:' .. ep, 0)
  if not head then
    return nil, nil
  end
  return head, redis.call('HMGET', P .. 'd:' .. head, 'o', 'nb', 't', 'v', 'y', 'p', 'pa', 'b')
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
while leased < max do
  local ep = redis.call('LPOP', P .. 'a')
  if not ep then
    break
  end
  local lk = lane_key(ep)
  local lane = lanes[ep]
  if not lane then
    local l = redis.call('HMGET', lk, 't', 'f', 'l')
    if l[1] or l[2] or l[3] then  -- the lane exists (its hash has no other fields)
      lane = { t = l[1], f = num(l[2]) }
      lane.head, lane.hd = head_of(ep)
      lanes[ep] = lane
    end
  end
  if lane then
    local tenant = lane.t
    local tk = P .. 't:' .. tenant
    local t = tenants[tenant]
    if not t then
      local v = redis.call('HMGET', tk, 'f', 'b')
      t = { f = num(v[1]), b = num(v[2]) }
      tenants[tenant] = t
    end
    if can_take(lane, t) then
      local id = redis.call('LPOP', P .. 'q:' .. ep)  -- lane.head
      local dk = P .. 'd:' .. id
      local d = lane.hd
      -- took(), its answers kept
      lane.f = redis.call('HINCRBY', lk, 'f', 1)
      if lane.f == 1 then
        t.b = redis.call('HINCRBY', tk, 'b', 1)
      end
      t.f = redis.call('HINCRBY', tk, 'f', 1)
      local h = redis.call('HINCRBY', dk, 'h', 1)
      local token = redis.call('INCR', P .. 'tok')
      local deadline = now + lease_ms
      redis.call('HSET', dk, 'k', str(token), 'dl', str(deadline), 'w', owner)
      redis.call('ZADD', P .. 'lz', deadline, id)
      redis.call('SADD', P .. 'o:' .. owner, id)
      local body = ''
      if not sent[d[8]] then
        sent[d[8]] = true
        body = redis.call('HGET', P .. 'b:' .. d[8], 'c')
      end
      for _, v in ipairs({ token, deadline, h, id, d[3], ep, d[4], d[5], d[1], d[6], d[2], d[7], d[8], body }) do
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
      redis.call('HSET', lk, 'l', '1')
      redis.call('RPUSH', P .. 'a', ep)
    else
      redis.call('HSET', lk, 'l', '0')
      -- wake_for_head(), from what is kept
      if lane.head and lane.hd[1] == '1' and num(lane.hd[2]) > now then
        redis.call('ZADD', P .. 'z', lane.hd[2], 'w:' .. ep)
      end
    end
  end
end
if leased > 0 then
  redis.call('HINCRBY', P .. 'm', 'leased', leased)
end
out[1] = next_due()
return out
