import type { Redis } from 'ioredis';

/**
 * The Lua scripts of the Redis room history. Each room has two keys sharing one hash tag
 * (`{<room>}`), so that on Redis Cluster both live in the room's slot and a script may
 * touch them together: `<prefix>history:{<room>}` (the Stream; entry ids are `<offset>-0`)
 * and `<prefix>history:{<room>}:pos` (a hash: `e` the epoch, `s` the last offset).
 */

/**
 * KEYS: stream, position. ARGV: new epoch (used if the room has none), size, stream TTL
 * ms, position TTL ms, channel, envelope header, frame body. Numbers the broadcast,
 * appends it, and publishes it in the same script: the stream's order is the order in
 * which every instance receives it. A room without a position starts a new epoch and
 * drops any stream left over, so offsets never restart inside an epoch.
 */
export const APPEND_SCRIPT = `
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch, 's', 0)
end
local offset = redis.call('HINCRBY', KEYS[2], 's', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], offset .. '-0', 'h', ARGV[6], 'b', ARGV[7])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', ARGV[5], '@' .. epoch .. ':' .. offset .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[7])
return offset
`;

/**
 * KEYS: stream, position. ARGV: after (offset), count. The epoch, the last offset and the
 * entries after the offset, read at one instant. No position: `false` (nil) and 0.
 */
export const READ_SCRIPT = `
local pos = redis.call('HMGET', KEYS[2], 'e', 's')
if not pos[1] then return {false, 0, {}} end
local entries = {}
if tonumber(ARGV[2]) > 0 then
  entries = redis.call('XRANGE', KEYS[1], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
end
return {pos[1], tonumber(pos[2]), entries}
`;

/** The two keys of a room (one hash tag, so one Cluster slot). */
export function historyKeys(keyPrefix: string, room: string): [stream: string, position: string] {
  const stream = `${keyPrefix}history:{${room}}`;
  return [stream, `${stream}:pos`];
}

/** Installs the scripts on a connection as commands (EVALSHA, EVAL when Redis does not know them yet). */
export function defineHistoryCommands(redis: Redis): void {
  redis.defineCommand('tracingWsAppend', { numberOfKeys: 2, lua: APPEND_SCRIPT });
  redis.defineCommand('tracingWsRead', { numberOfKeys: 2, lua: READ_SCRIPT });
}
