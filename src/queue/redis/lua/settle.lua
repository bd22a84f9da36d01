-- settle: ARGV P, tenant cap, then 4 per settle: kind (ack | dead | retry | extend), id, token,
-- time (retry: due; extend: the new deadline). Settles them in order, each as on its own.
-- Answers one integer per settle: 1 when done, 0 when the lease is not held any more.
local tenant_cap = num(ARGV[2])
-- The queue's counts ('m'), summed over the batch and written once at the end.
local leased_by, held_by, bytes_by = 0, 0, 0

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
  -- The lease ends (unlease(), with the counts batched).
  local ep = d[2]
  redis.call('ZREM', P .. 'lz', id)
  if d[4] then
    redis.call('SREM', P .. 'o:' .. d[4], id)
  end
  leased_by = leased_by - 1
  released(ep, d[3], tenant_cap)
  if kind == 'retry' then
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
  finish(ep)
  return 1
end

local out = {}
for i = 3, #ARGV - 3, 4 do
  out[#out + 1] = settle_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], num(ARGV[i + 3]))
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
