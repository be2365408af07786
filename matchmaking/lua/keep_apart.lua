-- ARGV: prefix, peer, other peer ('' when gone), other's address hash ('' = read from its record), block_ms
-- A report of a match that has already ended: the pair's keep-apart key, as end_match sets it.
local other_who = ARGV[4] ~= '' and ('a' .. ARGV[4]) or nil
redis.call('SET', pair_key('ka', ARGV[2], ARGV[3], other_who), '1', 'PX', tonumber(ARGV[5]))
return 1
