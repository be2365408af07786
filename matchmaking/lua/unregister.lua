-- ARGV: prefix, peer, proc, channel ('' = whichever holds the peer)
-- With a channel, only while that channel still holds the peer: a connection whose match a newer
-- one took over (take_over.lua) leaves it alone.
if ARGV[4] ~= '' and redis.call('HGET', P .. 'peer:' .. ARGV[2], 'ch') ~= ARGV[4] then return {'none'} end
return forget(ARGV[2], ARGV[3]) or {'none'}
