-- settle: ARGV P, tenant cap, then 4 per settle: kind (ack | dead | retry | extend), id, token,
-- time (retry: due; extend: the new deadline). Settles them in order, each as on its own.
-- Answers one integer per settle: 1 when done, 0 when the lease is not held any more.
local tenant_cap = num(ARGV[2])

local function settle_one(kind, id, token, at)
  local dk = P .. 'd:' .. id
  if redis.call('HGET', dk, 'k') ~= token then
    return 0
  end
  if kind == 'extend' then
    redis.call('ZADD', P .. 'lz', 'XX', at, id)
    redis.call('HSET', dk, 'dl', str(at))
    return 1
  end
  local ep = unlease(id, tenant_cap)
  if kind == 'retry' then
    redis.call('HSET', dk, 'nb', str(at))
    if redis.call('HGET', dk, 'o') == '1' then
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
    forget(id)
  end
  finish(ep)
  return 1
end

local out = {}
for i = 3, #ARGV - 3, 4 do
  out[#out + 1] = settle_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], num(ARGV[i + 3]))
end
return out
