-- ARGV: prefix, peer
local key = P .. 'peer:' .. ARGV[2]
if redis.call('HGET', key, 'st') == 'w' then
  dequeue(ARGV[2])
  redis.call('HSET', key, 'st', 'i')
end
return 1
