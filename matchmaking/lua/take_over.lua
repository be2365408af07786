-- ARGV: prefix, peer, match_id, channel holding it now (as verified), new channel, proc, peer_ttl_ms,
--       seq, replaced peer (the new connection's own idle peer)
-- Moves a matched peer to a new connection and process in one step, keeping its match; nothing
-- changes unless the peer is still in that match on the channel the caller verified.
local id, mid, proc, ttl = ARGV[2], ARGV[3], ARGV[6], tonumber(ARGV[7])
local key = P .. 'peer:' .. id
local st, current, ch, old_proc = unpack(redis.call('HMGET', key, 'st', 'mid', 'ch', 'proc'))
if st ~= 'm' or current ~= mid or ch ~= ARGV[4] then return {'none'} end
redis.call('HSET', key, 'ch', ARGV[5], 'proc', proc, 'seq', ARGV[8])
redis.call('PEXPIRE', key, ttl)
if old_proc and old_proc ~= proc then redis.call('SREM', P .. 'procpeers:' .. old_proc, id) end
redis.call('SADD', P .. 'procpeers:' .. proc, id)
redis.call('PEXPIRE', P .. 'procpeers:' .. proc, ttl)
if ARGV[9] ~= '' and ARGV[9] ~= id then forget(ARGV[9], proc) end
local view = match_view(id)
return {'moved', ch, view.partner_channel, view.polite, view.shared, view.spoken, view.interests, view.languages,
  view.partner}
