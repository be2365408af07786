-- ARGV: prefix, proc, lease_ms, peer_ttl_ms (0 = do not renew peer keys this beat)
-- Renews this process's lease, then reaps processes whose lease ran out.
local proc, lease_ms, peer_ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
redis.call('ZADD', P .. 'procs', now + lease_ms, proc)
if peer_ttl > 0 then
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'procpeers:' .. proc)) do
    redis.call('PEXPIRE', P .. 'peer:' .. id, peer_ttl)
  end
end
local out = {}
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', P .. 'procs', '-inf', now, 'LIMIT', 0, 10)) do
  redis.call('ZREM', P .. 'procs', dead)
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'procpeers:' .. dead)) do
    local ended = forget(id, dead)
    if ended then
      for _, value in ipairs(ended) do out[#out + 1] = value end
    end
  end
  redis.call('DEL', P .. 'procpeers:' .. dead)
end
return out
