-- ARGV: prefix, peer, match_id ('' = whatever match), reason, cooldown_ms, block_ms (0 = no report)
return end_match(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])) or {'none'}
