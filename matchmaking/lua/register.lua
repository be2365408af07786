-- ARGV: prefix, peer, channel, proc, peer_ttl_ms, lease_ms, seq, address hash
local key = P .. 'peer:' .. ARGV[2]
local ttl = tonumber(ARGV[5])
redis.call('HSET', key, 'st', 'i', 'ch', ARGV[3], 'proc', ARGV[4], 'seq', ARGV[7], 'ad', ARGV[8])
redis.call('PEXPIRE', key, ttl)
redis.call('SADD', P .. 'procpeers:' .. ARGV[4], ARGV[2])
redis.call('PEXPIRE', P .. 'procpeers:' .. ARGV[4], ttl)
-- The first peer of a new process starts its lease before the first heartbeat does.
redis.call('ZADD', P .. 'procs', 'GT', now_ms() + tonumber(ARGV[6]), ARGV[4])
redis.call('PEXPIRE', P .. 'procs', ttl)
return 1
