-- reclaim: ARGV P, owner, now, tenant cap. A process starting under `owner` gives back every
-- lease its previous run held (that run is dead: its leases would only wait out their
-- deadlines). Answers how many.
local owner, now, tenant_cap = ARGV[2], num(ARGV[3]), num(ARGV[4])
local ids = redis.call('SMEMBERS', P .. 'o:' .. owner)
for _, id in ipairs(ids) do
  reclaim(id, now, tenant_cap)
end
return #ids
