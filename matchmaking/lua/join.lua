-- ARGV: prefix, peer, ticket, interest_wait_ms, match_id, scan_limit, key_ttl_ms, languages (comma list), interests...
-- Pairs the peer with the best waiting partner, or queues it; all in one atomic step.
local interests = {}
for i = 9, #ARGV do interests[#interests + 1] = ARGV[i] end
return join_queue(ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], interests)
