import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { historyKeys } from './redis-history.scripts.js';
import type { RedisBroadcastBus } from './redis-broadcast.bus.js';
import { isPublication } from './ws-broadcast.envelope.js';
import type { WsHistoryEntry, WsHistoryRead, WsRoomHistory } from './ws-room.history.js';

type HistorySettings = NonNullable<ResolvedTracingWsOptions['broadcast']['history']>;

/** A room's position outlives its entries by this much, so a client that missed nothing still recovers after a long wait. */
const POSITION_TTL_MS = 24 * 60 * 60 * 1000;
/** A recovery asked of an instance still connecting to Redis (just restarted) waits this long for it. */
const READY_WAIT_MS = 2000;

/** The scripts as ioredis commands (EVALSHA, with EVAL when Redis does not know the script yet). */
interface HistoryCommands {
  tracingWsAppend(stream: string, position: string, ...args: Array<string | number>): Promise<unknown>;
  tracingWsRead(stream: string, position: string, after: number, count: number): Promise<unknown>;
}

/**
 * The room history in Redis Streams, shared by every instance on the same Redis and
 * key prefix, surviving any instance's crash. Appending goes through the bus's
 * publishing connection and its bounds; the offset is the room's counter in Redis
 * (so every instance numbers the same), the epoch is stored next to it. Internal.
 */
export class RedisRoomHistory implements WsRoomHistory {
  constructor(
    private readonly bus: RedisBroadcastBus,
    private readonly keyPrefix: string,
    private readonly settings: HistorySettings,
  ) {}

  /**
   * Numbers, keeps and publishes a room broadcast in one script; every instance (this
   * one too) delivers it when it arrives on the channel. False when it was not sent
   * (Redis down, or too many publishes waiting).
   */
  append(room: string, header: string, body: string): boolean {
    const [stream, position] = historyKeys(this.keyPrefix, room);
    const { size, ttlMs } = this.settings;
    const epoch = randomBytes(6).toString('hex');
    return this.bus.publishWith((pub) =>
      commands(pub).tracingWsAppend(stream, position, epoch, size, ttlMs, Math.max(ttlMs, POSITION_TTL_MS), this.bus.channel, header, body),
    );
  }

  async read(room: string, after: number): Promise<WsHistoryRead> {
    const pub = await this.bus.clientWithin(READY_WAIT_MS);
    if (!pub) throw new Error('Redis is unavailable');
    const [stream, position] = historyKeys(this.keyPrefix, room);
    // MAXLEN ~ may keep somewhat more than `size`: read enough to see the whole gap or know it is too long.
    const reply = (await commands(pub).tracingWsRead(stream, position, after, this.settings.size * 2 + 64)) as [string | null, number, Array<[string, string[]]>];
    const [epoch, head, raw] = reply;
    return { epoch: epoch ?? '', head: Number(head), entries: raw.map(toEntry).filter((e): e is WsHistoryEntry => e !== undefined) };
  }

  /** The room's position only (a fresh join). */
  async position(room: string): Promise<{ epoch: string; offset: number }> {
    const pub = await this.bus.clientWithin(READY_WAIT_MS);
    if (!pub) throw new Error('Redis is unavailable');
    const [stream, position] = historyKeys(this.keyPrefix, room);
    const [epoch, head] = (await commands(pub).tracingWsRead(stream, position, 0, 0)) as [string | null, number];
    return { epoch: epoch ?? '', offset: Number(head) };
  }
}

function commands(pub: Redis): HistoryCommands {
  return pub as unknown as HistoryCommands;
}

/** A stream entry `[id, [field, value, …]]` back to a history entry; `undefined` when it is not one of ours. */
function toEntry([id, fields]: [string, string[]]): WsHistoryEntry | undefined {
  let header: unknown;
  let body: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'h') {
      try {
        header = JSON.parse(fields[i + 1]!);
      } catch {
        return undefined;
      }
    } else if (fields[i] === 'b') body = fields[i + 1];
  }
  if (!isPublication(header) || body === undefined) return undefined;
  return { offset: Number.parseInt(id, 10), event: header.event, body, traceparent: header.traceparent, traceId: header.traceId, publishedAt: header.publishedAt };
}
