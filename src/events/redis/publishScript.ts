/**
 * Publishes a batch of outbox events to a stream, atomically, skipping every
 * event the stream already has. Entry IDs are `<sequence>-0`: the stream's
 * last generated ID says how far publication got, so an event at or below
 * it was published before (by this relay before a crash, or by another
 * replica) and is skipped, and XADD itself would refuse it anyway. A replayed
 * dead letter gets `<sequence of the top>-<n>` (ReplayDeadLetter), which
 * keeps the next sequence above it.
 *
 * KEYS[1] stream. ARGV: for each event, its sequence, its field count and
 * the fields (name, value, ...). Returns {added, skipped}.
 */
export const PUBLISH_SCRIPT = `
local last = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
  end
end
local added, skipped, i = 0, 0, 1
while i <= #ARGV do
  local sequence = tonumber(ARGV[i])
  local count = tonumber(ARGV[i + 1])
  if sequence > last then
    local args = {'XADD', KEYS[1], ARGV[i] .. '-0'}
    for j = i + 2, i + 1 + count do args[#args + 1] = ARGV[j] end
    redis.call(unpack(args))
    last = sequence
    added = added + 1
  else
    skipped = skipped + 1
  end
  i = i + 2 + count
end
return {added, skipped}
`;
