-- Stores one attempt record atomically. Called by Store::record (store.rs).
--
-- KEYS[1] state hash  callhook:state:{job_id}     field integration_id -> latest record JSON
-- KEYS[2] index       callhook:attempt:{attempt_id}
-- KEYS[3] stream      callhook:attempts
-- KEYS[4] stream      callhook:attempts:{agent_id}
-- KEYS[5] job         callhook:job:{job_id}       only its TTL is refreshed
-- ARGV: 1 integration_id, 2 record JSON, 3 outcome, 4 agent_id, 5 job_id, 6 trigger,
--       7 retention seconds, 8 global MAXLEN, 9 agent MAXLEN
--
-- Answers one of:
--   {'duplicate', stream_id}  this attempt_id was already stored: nothing appended
--   {'exists', record_json}   a delivery whose integration already has a recorded
--                             delivery or retry: nothing appended
--   {'stored', agent_stream_id, global_stream_id}

local index = redis.call('GET', KEYS[2])
if index then
  local ok, ref = pcall(cjson.decode, index)
  local stream_id = ''
  if ok and type(ref) == 'table' and type(ref.stream_id) == 'string' then
    stream_id = ref.stream_id
  end
  return {'duplicate', stream_id}
end

if ARGV[6] == 'delivery' then
  local existing = redis.call('HGET', KEYS[1], ARGV[1])
  if existing then
    -- An unreadable record counts as recorded: sending twice is the worse mistake.
    local ok, rec = pcall(cjson.decode, existing)
    if not ok or type(rec) ~= 'table' or rec.trigger ~= 'test' then
      return {'exists', existing}
    end
  end
end

local fields = {'record', ARGV[2], 'outcome', ARGV[3], 'agent_id', ARGV[4],
                'integration_id', ARGV[1], 'job_id', ARGV[5]}
local global_id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', unpack(fields))
local agent_sid = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[9], '*', unpack(fields))

redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[7])

local ref = '{"job_id":' .. cjson.encode(ARGV[5]) ..
            ',"integration_id":' .. cjson.encode(ARGV[1]) ..
            ',"agent_id":' .. cjson.encode(ARGV[4]) ..
            ',"stream_id":' .. cjson.encode(agent_sid) .. '}'
redis.call('SET', KEYS[2], ref, 'EX', ARGV[7])

-- Keep the job retryable for as long as its state is kept.
redis.call('EXPIRE', KEYS[5], ARGV[7])

return {'stored', agent_sid, global_id}
