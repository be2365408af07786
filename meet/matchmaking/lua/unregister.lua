-- ARGV: prefix, peer, proc
return forget(ARGV[2], ARGV[3]) or {'none'}
