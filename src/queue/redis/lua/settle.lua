-- settle: ARGV P, kind (ack | dead | retry | extend), id, token, time (retry: due; extend: the
-- new deadline), tenant cap. Answers 1 when done, 0 when the lease is not held any more.
local kind, id, token, at, tenant_cap = ARGV[2], ARGV[3], ARGV[4], num(ARGV[5]), num(ARGV[6])
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
