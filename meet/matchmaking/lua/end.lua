-- ARGV: prefix, peer, match_id ('' = whatever match), reason, cooldown_ms
return end_match(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])) or {'none'}
