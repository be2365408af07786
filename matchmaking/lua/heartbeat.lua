-- ARGV: prefix, proc, lease_ms, peer_ttl_ms, sweep (1 = check this process's peers this beat),
--       seq (registrations this process had made when it listed its peers), peers it still serves...
-- Renews this process's lease, drops its peers it no longer serves, then reaps processes whose
-- lease ran out. Every key expires if no process is left to renew it.
local proc, lease_ms, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local sweep, seq = ARGV[5] == '1', tonumber(ARGV[6])
local now = now_ms()
redis.call('ZADD', P .. 'procs', now + lease_ms, proc)
for _, key in ipairs({P .. 'procs', P .. 'procpeers:' .. proc, P .. 'q:any', P .. 'q:int', P .. 'matches'}) do
  redis.call('PEXPIRE', key, ttl)
end
local out = {}
local function collect(ended)
  if ended then
    for _, value in ipairs(ended) do out[#out + 1] = value end
  end
end
if sweep then
  local live = {}
  for i = 7, #ARGV do live[ARGV[i]] = true end
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'procpeers:' .. proc)) do
    local key = P .. 'peer:' .. id
    local st, mid, int, pseq, lang = unpack(redis.call('HMGET', key, 'st', 'mid', 'int', 'seq', 'lang'))
    if live[id] or tonumber(pseq or '0') > seq then
      -- Served (or registered after the list was taken): renew the peer and what it is part of.
      redis.call('PEXPIRE', key, ttl)
      if st == 'm' and mid then redis.call('PEXPIRE', P .. 'match:' .. mid, ttl) end
      if st == 'w' then
        for _, interest in ipairs(split(int)) do redis.call('PEXPIRE', P .. 'qi:' .. interest, ttl) end
        for _, language in ipairs(split(lang)) do redis.call('PEXPIRE', P .. 'ql:' .. language, ttl) end
      end
    else
      -- A peer this process no longer serves (its unregister failed): a zombie, gone now.
      collect(forget(id, proc))
    end
  end
end
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', P .. 'procs', '-inf', now, 'LIMIT', 0, 10)) do
  redis.call('ZREM', P .. 'procs', dead)
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'procpeers:' .. dead)) do collect(forget(id, dead)) end
  redis.call('DEL', P .. 'procpeers:' .. dead)
end
-- Counters stay true even when keys expired under them (every process was down for a while):
-- drop matches whose record is gone and queue heads whose peer no longer waits.
for _, mid in ipairs(redis.call('SRANDMEMBER', P .. 'matches', 16)) do
  if redis.call('EXISTS', P .. 'match:' .. mid) == 0 then redis.call('SREM', P .. 'matches', mid) end
end
for _, zkey in ipairs({P .. 'q:any', P .. 'q:int'}) do
  for _, id in ipairs(redis.call('ZRANGE', zkey, 0, 15)) do
    if redis.call('HGET', P .. 'peer:' .. id, 'st') ~= 'w' then redis.call('ZREM', zkey, id) end
  end
end
return out
