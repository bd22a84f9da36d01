-- holding: ARGV P, then delivery ids. Answers those the queue holds.
local out = {}
for i = 2, #ARGV do
  if redis.call('EXISTS', P .. 'd:' .. ARGV[i]) == 1 then
    out[#out + 1] = ARGV[i]
  end
end
return out
