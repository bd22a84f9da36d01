-- Shared by every script of the redis queue (prepended to each). Keys, all under the prefix P:
--   P..'d:'..id   hash, a queued delivery: t tenant, e endpoint, v event id, y event type,
--                 b body id, o ordered (1/0, the endpoint's mode: a switch rewrites it),
--                 p prior attempts, nb not before, pa published, h hand-outs, sq push order;
--                 while leased also k token, dl deadline, w owner
--   P..'b:'..bid  hash, a body: c ciphertext, r deliveries sharing it
--   P..'q:'..ep   list, the endpoint's lane: waiting deliveries in publish order (ordered: head first)
--   P..'n:'..ep   hash, the lane: t tenant, f leases out, l listed (in the rotation or parked)
--   P..'t:'..tn   hash, the tenant: f leases out, b lanes with a lease out
--   P..'tp:'..tn  list, the tenant's lanes parked at its in-flight cap
--   P..'a'        list, the rotation: lanes that may have something to hand out
--   P..'z'        sorted set by due time: 'd:'..id (a retry or future delivery), 'w:'..ep (an
--                 ordered lane whose head waits)
--   P..'lz'       sorted set by deadline: leased delivery ids
--   P..'o:'..own  set, the delivery ids leased by one owner (a process and its restarts)
--   P..'m'        hash: n deliveries held, bytes of bodies held, leased
--   P..'om'       hash, endpoint -> 1/0: the orderings set_ordering() recorded (beats a push's
--                 own flag); P..'omt' hash, endpoint -> its tenant
--   P..'seq', P..'tok', P..'dseq'  counters (body ids, lease tokens, push order);
--                 P..'ready' the pub/sub channel
-- Keys are named inside the scripts, so this needs one Redis (not a cluster).
local P = ARGV[1]

local function num(x)
  return tonumber(x) or 0
end

local function str(n)
  return string.format('%d', n)
end

-- A variadic command over many arguments, in slices: Lua's unpack() is bounded by its C stack
-- (8,000 values), and a lease or settle call may carry more. `per` arguments go together (a
-- ZADD's score and member).
local function call_many(cmd, key, args, per)
  local step = 1000 * per
  for i = 1, #args, step do
    redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, #args)))
  end
end

local function lane_key(ep)
  return P .. 'n:' .. ep
end

-- Into an ordered lane at its place in push order (a head going back: at the front at once).
-- The lane is read in chunks of 64 from its head, so that the usual case (the head's place is
-- the first) reads one chunk however long the lane; and a delivery after every waiting one
-- (the tail is older) goes to the end without reading the lane at all.
local function insert_ordered(ep, id)
  local q = P .. 'q:' .. ep
  local sq = num(redis.call('HGET', P .. 'd:' .. id, 'sq'))
  local tail = redis.call('LINDEX', q, -1)
  if not tail or num(redis.call('HGET', P .. 'd:' .. tail, 'sq')) < sq then
    redis.call('RPUSH', q, id)
    return
  end
  local from, chunk = 0, 64
  while true do
    local part = redis.call('LRANGE', q, from, from + chunk - 1)
    for _, other in ipairs(part) do
      if num(redis.call('HGET', P .. 'd:' .. other, 'sq')) > sq then
        redis.call('LINSERT', q, 'BEFORE', other, id)
        return
      end
    end
    if #part < chunk then
      break
    end
    from = from + chunk
  end
  redis.call('RPUSH', q, id)
end

-- An ordered lane whose head is not due yet is woken at the head's time (one timer per lane).
local function wake_for_head(ep, now)
  local head = redis.call('LINDEX', P .. 'q:' .. ep, 0)
  if not head then
    return
  end
  local d = redis.call('HMGET', P .. 'd:' .. head, 'o', 'nb')
  if d[1] == '1' and num(d[2]) > now then
    redis.call('ZADD', P .. 'z', d[2], 'w:' .. ep)
  end
end

-- The lane of a delivery, made when it is new.
local function lane_of(ep, tenant)
  redis.call('HSETNX', lane_key(ep), 't', tenant)
end

local function activate(ep)
  local lk = lane_key(ep)
  if redis.call('HGET', lk, 'l') ~= '1' then
    redis.call('HSET', lk, 'l', '1')
    redis.call('RPUSH', P .. 'a', ep)
  end
end

-- A lease of the lane starts or ends: the lane's and its tenant's counts.
local function took(ep, tenant)
  local tk = P .. 't:' .. tenant
  if redis.call('HINCRBY', lane_key(ep), 'f', 1) == 1 then
    redis.call('HINCRBY', tk, 'b', 1)
  end
  redis.call('HINCRBY', tk, 'f', 1)
end

local function released(ep, tenant, tenant_cap)
  local tk = P .. 't:' .. tenant
  if redis.call('HINCRBY', lane_key(ep), 'f', -1) == 0 then
    redis.call('HINCRBY', tk, 'b', -1)
  end
  local left = redis.call('HINCRBY', tk, 'f', -1)
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

-- What one more lease of an unordered lane may take (endpoint_share in queue.hpp).
local function share(tenant_cap, endpoint_cap, other_busy)
  local s = math.floor(tenant_cap / (other_busy + 1))
  if s < 1 then
    s = 1
  end
  if s > endpoint_cap then
    s = endpoint_cap
  end
  return s
end

-- Whether the lane's head may be handed out at now.
local function takeable(ep, now, tenant_cap, endpoint_cap)
  local head = redis.call('LINDEX', P .. 'q:' .. ep, 0)
  if not head then
    return false
  end
  local lane = redis.call('HMGET', lane_key(ep), 't', 'f')
  local inflight = num(lane[2])
  local t = redis.call('HMGET', P .. 't:' .. lane[1], 'f', 'b')
  if num(t[1]) >= tenant_cap then
    return false
  end
  local d = redis.call('HMGET', P .. 'd:' .. head, 'o', 'nb')
  if d[1] == '1' then
    return inflight == 0 and num(d[2]) <= now
  end
  local other = num(t[2])
  if inflight > 0 then
    other = other - 1
  end
  return inflight < share(tenant_cap, endpoint_cap, other)
end

-- A settled or emptied lane: back in the rotation if it has more, gone if nothing refers to it.
local function finish(ep)
  if redis.call('LLEN', P .. 'q:' .. ep) > 0 then
    activate(ep)
    return
  end
  local lane = redis.call('HMGET', lane_key(ep), 'f', 'l')
  if num(lane[1]) == 0 and lane[2] ~= '1' then
    redis.call('DEL', lane_key(ep))
  end
end

-- Ends the lease of delivery `id` (whatever its token): the lease records and the counts.
local function unlease(id, tenant_cap)
  local dk = P .. 'd:' .. id
  local d = redis.call('HMGET', dk, 'e', 't', 'w')
  redis.call('ZREM', P .. 'lz', id)
  if d[3] then
    redis.call('SREM', P .. 'o:' .. d[3], id)
  end
  redis.call('HDEL', dk, 'k', 'dl', 'w')
  redis.call('HINCRBY', P .. 'm', 'leased', -1)
  released(d[1], d[2], tenant_cap)
  return d[1], d[2]
end

-- A lease that ended without an outcome (expired, or its owner restarted): the delivery is due
-- again at once, an ordered one as its lane's head. Its hand-outs stay counted.
local function reclaim(id, now, tenant_cap)
  local ep, tenant = unlease(id, tenant_cap)
  local dk = P .. 'd:' .. id
  if num(redis.call('HGET', dk, 'nb')) > now then
    redis.call('HSET', dk, 'nb', str(now))
  end
  lane_of(ep, tenant)
  if redis.call('HGET', dk, 'o') == '1' then
    insert_ordered(ep, id)
  else
    redis.call('RPUSH', P .. 'q:' .. ep, id)
  end
  activate(ep)
end

-- The queue forgets delivery `id` (acked or dead-lettered), and its body with its last delivery.
local function forget(id)
  local dk = P .. 'd:' .. id
  local bk = P .. 'b:' .. redis.call('HGET', dk, 'b')
  redis.call('DEL', dk)
  if redis.call('HINCRBY', bk, 'r', -1) <= 0 then
    redis.call('HINCRBY', P .. 'm', 'bytes', -redis.call('HSTRLEN', bk, 'c'))
    redis.call('DEL', bk)
  end
  redis.call('HINCRBY', P .. 'm', 'n', -1)
end

-- When the earliest timer or lease deadline falls, -1 if none.
local function next_due()
  local best = -1
  for _, key in ipairs({ P .. 'z', P .. 'lz' }) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local at = tonumber(first[2])
      if best < 0 or at < best then
        best = at
      end
    end
  end
  return best
end
