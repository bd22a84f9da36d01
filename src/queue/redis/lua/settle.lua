-- settle: ARGV P, tenant cap, then 4 per settle: kind (ack | dead | retry | defer | extend), id,
-- token, time (retry, defer: due; extend: the new deadline). Settles them in order, each as on
-- its own. A defer is a retry that gives its hand-out back (the next makes the same attempt).
-- Answers one integer per settle: 1 when done, 0 when the lease is not held any more.
local tenant_cap = num(ARGV[2])
-- The queue's counts ('m'), summed over the batch and written once at the end; so are the
-- lanes' and tenants' lease counts (then each lane is finished once: back in the rotation or
-- gone) and the lease records' removal. Nothing a later settle of the batch reads depends on
-- them: it reads only its delivery and, for an ordered retry, its lane's list.
local leased_by, held_by, bytes_by = 0, 0, 0
local lanes, lane_order = {}, {}      -- endpoint -> { tenant, released }
local unleased, by_owner = {}, {}     -- lz members; owner -> ids

local function settle_one(kind, id, token, at)
  local dk = P .. 'd:' .. id
  local d = redis.call('HMGET', dk, 'k', 'e', 't', 'w', 'b', 'o')
  if d[1] ~= token then
    return 0
  end
  if kind == 'extend' then
    redis.call('ZADD', P .. 'lz', 'XX', at, id)
    redis.call('HSET', dk, 'dl', str(at))
    return 1
  end
  -- The lease ends (unlease(), with the counts and records batched).
  local ep = d[2]
  unleased[#unleased + 1] = id
  if d[4] then
    local ids = by_owner[d[4]]
    if not ids then
      ids = {}
      by_owner[d[4]] = ids
    end
    ids[#ids + 1] = id
  end
  leased_by = leased_by - 1
  local lane = lanes[ep]
  if not lane then
    lane = { t = d[3], n = 0 }
    lanes[ep] = lane
    lane_order[#lane_order + 1] = ep
  end
  lane.n = lane.n + 1
  if kind == 'retry' or kind == 'defer' then
    if kind == 'defer' then
      redis.call('HINCRBY', dk, 'h', -1)
    end
    redis.call('HDEL', dk, 'k', 'dl', 'w')
    redis.call('HSET', dk, 'nb', str(at))
    if d[6] == '1' then
      -- Back to its place (the head's, unless it was leased before a switch to ordered); the
      -- lane waits for its head's time.
      insert_ordered(ep, id)
      if redis.call('LINDEX', P .. 'q:' .. ep, 0) == id then
        redis.call('ZADD', P .. 'z', at, 'w:' .. ep)
      end
    else
      redis.call('ZADD', P .. 'z', at, 'd:' .. id)
    end
  else
    -- Forgotten (forget(), with the counts batched), and its body with its last delivery.
    local bk = P .. 'b:' .. d[5]
    redis.call('DEL', dk)
    if redis.call('HINCRBY', bk, 'r', -1) <= 0 then
      bytes_by = bytes_by - redis.call('HSTRLEN', bk, 'c')
      redis.call('DEL', bk)
    end
    held_by = held_by - 1
  end
  return 1
end

local out = {}
for i = 3, #ARGV - 3, 4 do
  out[#out + 1] = settle_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], num(ARGV[i + 3]))
end
-- A lease extended and then settled in the same batch was extended first: its removal comes
-- after, as it would have one by one.
call_many('ZREM', P .. 'lz', unleased, 1)
for owner, ids in pairs(by_owner) do
  call_many('SREM', P .. 'o:' .. owner, ids, 1)
end
-- released(), once per lane and tenant with the batch's sum, then finish() per lane.
local tenants, tenant_order = {}, {}
for _, ep in ipairs(lane_order) do
  local lane = lanes[ep]
  if redis.call('HINCRBY', lane_key(ep), 'f', -lane.n) == 0 then
    lane.idle = true
  end
  local t = tenants[lane.t]
  if not t then
    t = { f = 0, b = 0 }
    tenants[lane.t] = t
    tenant_order[#tenant_order + 1] = lane.t
  end
  t.f = t.f + lane.n
  if lane.idle then
    t.b = t.b + 1
  end
end
for _, tenant in ipairs(tenant_order) do
  local t, tk = tenants[tenant], P .. 't:' .. tenant
  if t.b > 0 then
    redis.call('HINCRBY', tk, 'b', -t.b)
  end
  local left = redis.call('HINCRBY', tk, 'f', -t.f)
  if left < tenant_cap then
    -- Below its cap: the tenant's parked lanes return to the rotation (still listed). Checked on
    -- every release, not only at the cap, so that processes with different caps never strand one.
    while redis.call('LMOVE', P .. 'tp:' .. tenant, P .. 'a', 'LEFT', 'RIGHT') do
    end
  end
  if left <= 0 then
    redis.call('DEL', tk)
  end
end
for _, ep in ipairs(lane_order) do
  finish(ep)
end
if leased_by ~= 0 then
  redis.call('HINCRBY', P .. 'm', 'leased', leased_by)
end
if held_by ~= 0 then
  redis.call('HINCRBY', P .. 'm', 'n', held_by)
end
if bytes_by ~= 0 then
  redis.call('HINCRBY', P .. 'm', 'bytes', bytes_by)
end
return out
