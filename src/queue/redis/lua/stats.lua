-- stats: ARGV P. One round trip for the gauges: {held, leased, bytes, scheduled (timers: due
-- retries and later deliveries, and ordered lanes waiting for their head's time)}.
local m = redis.call('HMGET', P .. 'm', 'n', 'leased', 'bytes')
return { num(m[1]), num(m[2]), num(m[3]), redis.call('ZCARD', P .. 'z') }
