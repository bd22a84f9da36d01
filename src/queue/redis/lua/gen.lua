-- gen: ARGV P, a fresh generation. The queue's generation names this incarnation of its data:
-- set once when the queue is first made, and missing only when Redis lost its data (a restart
-- without persistence, FLUSHALL). Answers {generation, 1 when it was made by this call}.
local g = redis.call('GET', P .. 'gen')
if g then
  return { g, 0 }
end
redis.call('SET', P .. 'gen', ARGV[2])
return { ARGV[2], 1 }
