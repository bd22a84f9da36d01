-- push: ARGV P, now, capacity, max_bytes, then one or more batches, each: body count B,
-- delivery count D, B bodies, then 11 fields per delivery: id, tenant, endpoint, event id,
-- event type, ordered, prior attempts, not before, published, body index (1-based, into the
-- batch's bodies), traceparent ('' when none). Each batch is all or nothing, in order, as if pushed on its own. Answers one
-- verdict per batch: 0 pushed, 1 over the capacity, 2 over max_bytes.
local now, capacity, max_bytes = num(ARGV[2]), num(ARGV[3]), num(ARGV[4])
local fields = 11
local meta = redis.call('HMGET', P .. 'm', 'n', 'bytes')
local held, held_bytes = num(meta[1]), num(meta[2])
local added, added_bytes = 0, 0
-- Each endpoint's ordering, lane and rotation entry are looked at once per call.
local modes, active = {}, {}
local out = {}

local function push_batch(at)
  local nbodies, count = num(ARGV[at]), num(ARGV[at + 1])
  local bodies = at + 2  -- the first body
  local first = bodies + nbodies  -- the first delivery's first field
  local nxt = first + count * fields
  if held + count > capacity then
    return 1, nxt
  end
  local bytes = 0
  for i = 0, nbodies - 1 do
    bytes = bytes + string.len(ARGV[bodies + i])
  end
  if held_bytes + bytes > max_bytes then
    return 2, nxt
  end
  -- Each body is made with its count of deliveries; push order numbers are taken at once.
  local refs = {}
  for i = 0, count - 1 do
    local b = num(ARGV[first + i * fields + 9])
    refs[b] = (refs[b] or 0) + 1
  end
  local bids = {}
  local bid0 = nbodies > 0 and redis.call('INCRBY', P .. 'seq', nbodies) - nbodies or 0
  for i = 1, nbodies do
    local bid = str(bid0 + i)
    redis.call('HSET', P .. 'b:' .. bid, 'c', ARGV[bodies + i - 1], 'r', str(refs[i] or 0))
    bids[i] = bid
  end
  local sq = redis.call('INCRBY', P .. 'dseq', count) - count
  for i = 0, count - 1 do
    local a = first + i * fields
    local id, tenant, ep, ordered, nb = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 5], num(ARGV[a + 7])
    -- An ordering set for the endpoint beats the publish's (which may have read the catalog
    -- before).
    local mode = modes[ep]
    if mode == nil then
      mode = redis.call('HGET', P .. 'om', ep) or false
      modes[ep] = mode
      lane_of(ep, tenant)
    end
    ordered = mode or ordered
    local bid = bids[num(ARGV[a + 9])]
    redis.call('HSET', P .. 'd:' .. id, 't', tenant, 'e', ep, 'v', ARGV[a + 3], 'y', ARGV[a + 4],
      'o', ordered, 'p', ARGV[a + 6], 'nb', ARGV[a + 7], 'pa', ARGV[a + 8], 'b', bid, 'h', '0',
      'sq', str(sq + i + 1), 'tp', ARGV[a + 10])
    local lane = P .. 'q:' .. ep
    if ordered ~= '1' and nb > now then
      redis.call('ZADD', P .. 'z', nb, 'd:' .. id)
    else
      if ordered == '1' and nb > now and redis.call('LLEN', lane) == 0 then
        redis.call('ZADD', P .. 'z', nb, 'w:' .. ep)
      end
      redis.call('RPUSH', lane, id)
      if not active[ep] then
        active[ep] = true
        activate(ep)
      end
    end
  end
  held, held_bytes = held + count, held_bytes + bytes
  added, added_bytes = added + count, added_bytes + bytes
  return 0, nxt
end

local at = 5
while at <= #ARGV do
  local verdict
  verdict, at = push_batch(at)
  out[#out + 1] = verdict
end
if added > 0 then
  redis.call('HINCRBY', P .. 'm', 'n', added)
  redis.call('HINCRBY', P .. 'm', 'bytes', added_bytes)
  redis.call('PUBLISH', P .. 'ready', '1')
end
return out
