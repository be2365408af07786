-- ARGV: prefix. People online (on processes whose lease holds), waiting, in calls.
local online = 0
for _, proc in ipairs(redis.call('ZRANGEBYSCORE', P .. 'procs', now_ms(), '+inf')) do
  online = online + redis.call('SCARD', P .. 'procpeers:' .. proc)
end
local waiting = redis.call('ZCARD', P .. 'q:any') + redis.call('ZCARD', P .. 'q:int')
return {online, waiting, redis.call('SCARD', P .. 'matches')}
