-- Pairing, shared by join.lua and next.lua (which ends a match first, in the same atomic step).
-- join_queue pairs the peer with the best waiting partner, or queues it, and returns what join.lua
-- returns: {'gone'}, {'busy', ...}, {'waiting'} or {'matched', ...}.
local function join_queue(me, ticket, wait_ms, match_id, scan, ttl, spoken_csv, interests)
  local languages = split(spoken_csv)
  local mekey = P .. 'peer:' .. me
  local state = redis.call('HGET', mekey, 'st')
  if not state then return {'gone'} end
  if state == 'm' then
    -- Name the match, so the caller can take it should the partner's notice be lost.
    local view = match_view(me)
    return {'busy', view.mid, view.partner_channel, view.ticket, view.polite, view.shared, view.spoken, view.partner}
  end
  local now = now_ms()
  local queued_at = now
  if state == 'w' then
    queued_at = tonumber(redis.call('HGET', mekey, 'qt')) or now
    dequeue(me)
  end
  local holding_out = #interests > 0 or #languages > 0
  local my_open = not holding_out or now - queued_at >= wait_ms

  -- A queue entry is usable only while its peer still waits; stale entries are dropped here.
  local function waiting(id, zsets)
    if redis.call('HGET', P .. 'peer:' .. id, 'st') == 'w' then return true end
    for _, z in ipairs(zsets) do redis.call('ZREM', z, id) end
    return false
  end

  local function cooled(id) return redis.call('EXISTS', pair_key('cd', me, id)) == 1 end
  local function blocked(id) return redis.call('EXISTS', pair_key('ka', me, id)) == 1 end

  local best, best_score = nil, nil
  -- The oldest waiting peer in any of the zsets named by prefix..key.
  local function oldest_sharing(prefix, keys)
    for _, key in ipairs(keys) do
      local zkey = prefix .. key
      local rows = redis.call('ZRANGE', zkey, 0, scan - 1, 'WITHSCORES')
      for i = 1, #rows, 2 do
        local id, score = rows[i], tonumber(rows[i + 1])
        if waiting(id, {zkey}) and not blocked(id) and not cooled(id) then
          if not best or score < best_score then best, best_score = id, score end
          break
        end
      end
    end
  end
  -- 1. The oldest waiting peer sharing a language, else the oldest sharing an interest.
  oldest_sharing(P .. 'ql:', languages)
  if not best then oldest_sharing(P .. 'qi:', interests) end

  -- 2. Anyone, once neither side holds out for a shared interest.
  local cooled_ids, seen = {}, 0
  if not best and my_open then
    local lists = {
      {P .. 'q:any', redis.call('ZRANGE', P .. 'q:any', 0, scan - 1, 'WITHSCORES'), false},
      {P .. 'q:int', redis.call('ZRANGE', P .. 'q:int', 0, scan - 1, 'WITHSCORES'), true},
    }
    for _, list in ipairs(lists) do
      local zkey, rows, with_interests = list[1], list[2], list[3]
      for i = 1, #rows, 2 do
        local id, score = rows[i], tonumber(rows[i + 1])
        if waiting(id, {zkey}) then
          seen = seen + 1
          if blocked(id) then
            -- never this one, not even as a last resort
          elseif cooled(id) then
            cooled_ids[#cooled_ids + 1] = {id, score}
          elseif (not with_interests) or now - score >= wait_ms then
            if not best or score < best_score then best, best_score = id, score end
            break
          end
        end
      end
    end
  end

  -- 3. A partner from a just-ended match: only when nobody else waits and both waited out the window.
  if not best and #cooled_ids > 0 and now - queued_at >= wait_ms then
    local total = redis.call('ZCARD', P .. 'q:any') + redis.call('ZCARD', P .. 'q:int')
    if total == #cooled_ids and seen == total then
      for _, entry in ipairs(cooled_ids) do
        if now - entry[2] >= wait_ms and (not best or entry[2] < best_score) then best, best_score = entry[1], entry[2] end
      end
    end
  end

  local csv = table.concat(interests, ',')
  if not best then
    redis.call('HSET', mekey, 'st', 'w', 'qt', queued_at, 'tk', ticket, 'int', csv, 'lang', spoken_csv)
    -- Queues expire unless some process is alive to renew them (heartbeat.lua).
    if not holding_out then
      redis.call('ZADD', P .. 'q:any', queued_at, me)
      redis.call('PEXPIRE', P .. 'q:any', ttl)
    else
      redis.call('ZADD', P .. 'q:int', queued_at, me)
      redis.call('PEXPIRE', P .. 'q:int', ttl)
      for _, interest in ipairs(interests) do
        redis.call('ZADD', P .. 'qi:' .. interest, queued_at, me)
        redis.call('PEXPIRE', P .. 'qi:' .. interest, ttl)
      end
      for _, language in ipairs(languages) do
        redis.call('ZADD', P .. 'ql:' .. language, queued_at, me)
        redis.call('PEXPIRE', P .. 'ql:' .. language, ttl)
      end
    end
    return {'waiting'}
  end

  local okey = P .. 'peer:' .. best
  local o = redis.call('HMGET', okey, 'ch', 'tk', 'qt', 'int', 'lang')
  dequeue(best)
  local theirs, shared = {}, {}
  for _, interest in ipairs(split(o[4])) do theirs[interest] = true end
  for _, interest in ipairs(interests) do if theirs[interest] then shared[#shared + 1] = interest end end
  local spoken, spoken_by_them = {}, {}
  for _, language in ipairs(split(o[5])) do spoken_by_them[language] = true end
  for _, language in ipairs(languages) do if spoken_by_them[language] then spoken[#spoken + 1] = language end end
  local other_wait, my_wait = now - (tonumber(o[3]) or now), now - queued_at
  redis.call('HSET', okey, 'st', 'm', 'mid', match_id, 'pt', me)
  redis.call('HSET', mekey, 'st', 'm', 'mid', match_id, 'pt', best, 'tk', ticket, 'int', csv, 'lang', spoken_csv)
  redis.call('HSET', P .. 'match:' .. match_id, 'a', best, 'b', me, 'start', now, 'wa', other_wait, 'wb', my_wait,
    'sh', #shared > 0 and 1 or 0, 'sl', #spoken > 0 and 1 or 0)
  redis.call('PEXPIRE', P .. 'match:' .. match_id, ttl)
  redis.call('SADD', P .. 'matches', match_id)
  redis.call('PEXPIRE', P .. 'matches', ttl)
  return {'matched', best, o[1] or '', o[2] or '', table.concat(shared, ','), tostring(my_wait),
    table.concat(spoken, ',')}
end
