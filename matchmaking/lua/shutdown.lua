-- ARGV: prefix, proc. Expire this process's lease now so the next heartbeat anywhere reaps it.
redis.call('ZADD', P .. 'procs', 0, ARGV[2])
return 1
