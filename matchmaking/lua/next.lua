-- ARGV: prefix, peer, match_id, reason, cooldown_ms, ticket, interest_wait_ms, new match_id, scan_limit,
--       key_ttl_ms, languages (comma list), interests...
-- Next: ends the peer's match (only if it is match_id) and joins the queue, in one atomic step and
-- one round trip. Returns {ended match (as end.lua returns it), join result (as join.lua)}.
local ended = end_match(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), 0) or {'none'}
local interests = {}
for i = 12, #ARGV do interests[#interests + 1] = ARGV[i] end
local joined = join_queue(ARGV[2], ARGV[6], tonumber(ARGV[7]), ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10]),
  ARGV[11], interests)
return {ended, joined}
