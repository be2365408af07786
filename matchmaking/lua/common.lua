-- Helpers shared by every matchmaking script. Keys live under the prefix P:
-- Every key expires (after peer_ttl, or its own period) unless a live process renews it.
--   P..'peer:'..id       hash  st (i|w|m), ch, proc, seq, ad (address hash), tk, int and lang (comma lists),
--                              qt (ms), mid, pt
--   P..'q:any'           zset  waiting peers without interests or languages, score = queued at (ms)
--   P..'q:int'           zset  waiting peers with interests or languages (they hold out for a while)
--   P..'qi:'..interest   zset  waiting peers with that interest
--   P..'ql:'..language   zset  waiting peers speaking that language (primary subtag)
--   P..'match:'..mid     hash  a, b, start, wa, wb, sh (shared interest), sl (shared language)
--   P..'matches'         set   match ids in progress
--   P..'cd:'..pair       string, expires: the two just parted with next (pair: see pair_key())
--   P..'ka:'..pair       string, expires: one reported the other; never paired meanwhile
--   P..'procs'           zset  server process -> lease expiry (ms)
--   P..'procpeers:'..pr  set   peers connected to that process
local P = ARGV[1]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function split(csv)
  local out = {}
  if csv and csv ~= '' then
    for word in string.gmatch(csv, '([^,]+)') do out[#out + 1] = word end
  end
  return out
end

local function dequeue(id)
  local int, lang = unpack(redis.call('HMGET', P .. 'peer:' .. id, 'int', 'lang'))
  redis.call('ZREM', P .. 'q:any', id)
  redis.call('ZREM', P .. 'q:int', id)
  for _, interest in ipairs(split(int)) do
    redis.call('ZREM', P .. 'qi:' .. interest, id)
  end
  for _, language in ipairs(split(lang)) do
    redis.call('ZREM', P .. 'ql:' .. language, id)
  end
end

-- Who a peer is for the cooldown and report rules: its address hash when known, so that
-- reconnecting (a new peer id) resets neither. A peer's address never changes within a script,
-- so each is read once per script however many pairs it is checked in.
local whos = {}
local function who(id)
  local known = whos[id]
  if known then return known end
  local address = redis.call('HGET', P .. 'peer:' .. id, 'ad')
  known = (address and address ~= '') and ('a' .. address) or ('p' .. id)
  whos[id] = known
  return known
end

-- One-way token of the two together: neither address hash can be read back from it.
-- Two people behind one address (a shared NAT) can only be told apart by connection.
local function pair_key(kind, a, b, b_who)
  local x, y = who(a), b_who or who(b)
  if x == y then x, y = 'p' .. a, 'p' .. b end
  if x > y then x, y = y, x end
  return P .. kind .. ':' .. redis.sha1hex(x .. ':' .. y)
end

-- End id's match. Returns the fields of an ended match, or nil.
local function end_match(id, want_mid, reason, cooldown_ms, block_ms)
  local key = P .. 'peer:' .. id
  local st, mid, other = unpack(redis.call('HMGET', key, 'st', 'mid', 'pt'))
  if st ~= 'm' then return nil end
  if want_mid ~= '' and want_mid ~= mid then return nil end
  other = other or ''
  redis.call('HSET', key, 'st', 'i')
  redis.call('HDEL', key, 'mid', 'pt')
  local other_channel = ''
  if other ~= '' then
    local okey = P .. 'peer:' .. other
    local other_mid, channel = unpack(redis.call('HMGET', okey, 'mid', 'ch'))
    if other_mid == mid then
      redis.call('HSET', okey, 'st', 'i')
      redis.call('HDEL', okey, 'mid', 'pt')
      other_channel = channel or ''
    end
    if reason == 'next' and cooldown_ms > 0 then
      redis.call('SET', pair_key('cd', id, other), '1', 'PX', cooldown_ms)
    end
    if block_ms > 0 then
      redis.call('SET', pair_key('ka', id, other), '1', 'PX', block_ms)
    end
  end
  local m = redis.call('HMGET', P .. 'match:' .. mid, 'start', 'wa', 'wb', 'sh', 'sl')
  redis.call('DEL', P .. 'match:' .. mid)
  redis.call('SREM', P .. 'matches', mid)
  return {'ended', mid, other, other_channel, m[1] or '0', tostring(now_ms()), m[2] or '0', m[3] or '0', m[4] or '0',
    m[5] or '0'}
end

-- A matched peer's view of its match: the partner's id and channel, whether it is the polite side, and the
-- interests and languages the two share (comma lists, in the peer's order) and its own.
local function match_view(id)
  local mine = redis.call('HMGET', P .. 'peer:' .. id, 'mid', 'pt', 'tk', 'int', 'lang')
  local other = redis.call('HMGET', P .. 'peer:' .. (mine[2] or ''), 'ch', 'int', 'lang')
  local theirs, shared = {}, {}
  for _, interest in ipairs(split(other[2])) do theirs[interest] = true end
  for _, interest in ipairs(split(mine[4])) do if theirs[interest] then shared[#shared + 1] = interest end end
  local spoken_by_them, spoken = {}, {}
  for _, language in ipairs(split(other[3])) do spoken_by_them[language] = true end
  for _, language in ipairs(split(mine[5])) do if spoken_by_them[language] then spoken[#spoken + 1] = language end end
  return {
    mid = mine[1] or '',
    partner = mine[2] or '',
    partner_channel = other[1] or '',
    ticket = mine[3] or '',
    polite = redis.call('HGET', P .. 'match:' .. (mine[1] or ''), 'a') == id and '1' or '0',
    shared = table.concat(shared, ','),
    spoken = table.concat(spoken, ','),
    interests = mine[4] or '',
    languages = mine[5] or '',
  }
end

-- Forget a peer entirely; returns its ended match, if it had one.
local function forget(id, proc)
  local ended = end_match(id, '', 'disconnect', 0, 0)
  dequeue(id)
  redis.call('DEL', P .. 'peer:' .. id)
  redis.call('SREM', P .. 'procpeers:' .. proc, id)
  return ended
end
