/**
 * Moves one pending entry to the dead-letter stream, atomically and only if
 * it still qualifies: still pending in the group, idle at least ARGV[4] ms,
 * delivered at least ARGV[3] times. Then it is acknowledged in the group. Two
 * sweepers (two replicas) can therefore never dead-letter it twice.
 *
 * KEYS[1] stream, KEYS[2] dead-letter stream. ARGV[1] group, ARGV[2] entry
 * id, ARGV[3] minimum deliveries, ARGV[4] minimum idle ms, ARGV[5] now (ISO).
 * Returns 1 when moved, 0 otherwise.
 */
export const DEAD_LETTER_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[4], ARGV[2], ARGV[2], 1)
if #pending == 0 then return 0 end
local entry = pending[1]
if tonumber(entry[4]) < tonumber(ARGV[3]) then return 0 end
local args = {'XADD', KEYS[2], '*'}
local original = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #original > 0 then
  for _, value in ipairs(original[1][2]) do args[#args + 1] = value end
end
for _, value in ipairs({'deadletter_group', ARGV[1], 'deadletter_deliveries', tostring(entry[4]), 'deadletter_consumer', entry[2],
    'deadletter_source_id', ARGV[2], 'deadletter_time', ARGV[5]}) do
  args[#args + 1] = value
end
redis.call(unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Puts a dead letter back on the stream for its group and removes it from
 * the dead-letter stream, atomically. The new entry carries the original
 * fields plus `replaygroup` (the group it is for: other groups acknowledge it
 * unprocessed) and gets the ID `<ms of the stream's last ID>-<next>`: above
 * every entry, and below the next sequence the relay publishes
 * (publishScript.ts), so the relay's order and idempotence hold.
 *
 * KEYS[1] stream, KEYS[2] dead-letter stream. ARGV[1] dead-letter id.
 * Returns the new entry ID, or false when there is no such dead letter.
 */
export const REPLAY_SCRIPT = `
local letter = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #letter == 0 then return false end
local fields, group = {}, ''
local raw = letter[1][2]
for i = 1, #raw, 2 do
  if raw[i] == 'deadletter_group' then group = raw[i + 1] end
  if string.sub(raw[i], 1, 11) ~= 'deadletter_' and raw[i] ~= 'replaygroup' then
    fields[#fields + 1] = raw[i]
    fields[#fields + 1] = raw[i + 1]
  end
end
fields[#fields + 1] = 'replaygroup'
fields[#fields + 1] = group
local ms = '0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then ms = string.match(info[i + 1], '^(%d+)') end
  end
end
local id = redis.call('XADD', KEYS[1], ms .. '-*', unpack(fields))
redis.call('XDEL', KEYS[2], ARGV[1])
return id
`;
