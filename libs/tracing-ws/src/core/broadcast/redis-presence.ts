import type { ChainableCommander, Redis } from 'ioredis';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import type { WsBroadcastMetrics } from '../telemetry/ws-broadcast.metrics.js';
import type { WsLogger } from '../telemetry/ws.logger.js';
import type { RedisBroadcastBus } from './redis-broadcast.bus.js';
import type { WsLocalRegistry } from './ws-local.registry.js';
import type { WsOnlineConnection, WsRoomMember } from './ws-broadcast.types.js';

type RedisSettings = NonNullable<ResolvedTracingWsOptions['broadcast']['redis']>;

const ignore = (): void => undefined;

type ExecResult = Array<[Error | null, unknown]> | null;

/**
 * Who is online, on which instance, in which rooms, kept in Redis by each
 * instance for its own sockets. Keys (prefix `p`, instance `i`):
 * - `p instances`: sorted set, instance id scored by the time its entries expire;
 * - `p conns:i`: hash, connection id → `{"user","rooms"}`;
 * - `p room:i:<room>`: hash, connection id → user id (empty when anonymous);
 * - `p roomkeys:i`: set of the rooms written above, to clear them on resync.
 * Every key of an instance carries a TTL that the instance refreshes every third
 * of it, so a crashed instance's entries vanish by themselves. While Redis is
 * away writes are skipped; the whole local state is written again when it is
 * back (a restarted Redis may have lost everything). Internal.
 */
export class RedisPresence {
  private timer: NodeJS.Timeout | undefined;
  /** A write has failed since the last one that succeeded (its line is written once). */
  private failing = false;
  private readonly instancesKey: string;
  private readonly connsKey: string;
  private readonly roomKeysKey: string;

  constructor(
    private readonly settings: RedisSettings,
    private readonly instanceId: string,
    private readonly registry: WsLocalRegistry,
    private readonly bus: RedisBroadcastBus,
    private readonly metrics: WsBroadcastMetrics,
    private readonly log: WsLogger,
  ) {
    const p = settings.keyPrefix;
    this.instancesKey = `${p}instances`;
    this.connsKey = `${p}conns:${instanceId}`;
    this.roomKeysKey = `${p}roomkeys:${instanceId}`;
  }

  start(): void {
    this.timer = setInterval(() => this.refresh(), Math.floor(this.settings.presenceTtlMs / 3));
    this.timer.unref();
  }

  /** Stops refreshing and removes this instance's entries (best effort: they expire anyway). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const client = this.bus.client;
    if (!client) return;
    const rooms = await client.smembers(this.roomKeysKey).catch((): string[] => []);
    const m = client.multi();
    for (const room of rooms) m.del(this.roomKey(this.instanceId, room));
    await m.del(this.connsKey, this.roomKeysKey).zrem(this.instancesKey, this.instanceId).exec().catch(ignore);
  }

  opened(state: WsConnectionState): void {
    const client = this.bus.client;
    if (!client) return;
    this.written(this.writeConnection(client.pipeline(), state).exec());
  }

  closed(state: WsConnectionState, rooms: readonly string[]): void {
    const client = this.bus.client;
    if (!client) return;
    const p = client.pipeline().hdel(this.connsKey, state.context.connectionId);
    for (const room of rooms) this.removeMember(p, state, room);
    this.written(p.exec());
  }

  joined(state: WsConnectionState, room: string): void {
    const client = this.bus.client;
    if (!client) return;
    const key = this.roomKey(this.instanceId, room);
    const p = client.pipeline().hset(key, state.context.connectionId, state.context.user?.id ?? '').pexpire(key, this.settings.presenceTtlMs).sadd(this.roomKeysKey, room);
    this.written(this.writeConnection(p, state).exec());
  }

  left(state: WsConnectionState, room: string): void {
    const client = this.bus.client;
    if (!client) return;
    this.written(this.writeConnection(this.removeMember(client.pipeline(), state, room), state).exec());
  }

  /** Rewrites every entry of this instance from local state (after Redis came back). */
  async resync(): Promise<void> {
    const client = this.bus.client;
    if (!client) return;
    const stale = await client.smembers(this.roomKeysKey).catch((): string[] | undefined => undefined);
    if (!stale) return;
    // Built synchronously from local state, after the read: joins that raced it are included.
    const m = client.multi();
    for (const room of stale) m.del(this.roomKey(this.instanceId, room));
    m.del(this.connsKey, this.roomKeysKey);
    for (const state of this.registry.connections) this.writeConnection(m, state);
    for (const room of this.registry.roomNames()) {
      const key = this.roomKey(this.instanceId, room);
      const fields: string[] = [];
      for (const state of this.registry.room(room)) fields.push(state.context.connectionId, state.context.user?.id ?? '');
      m.hset(key, ...fields).pexpire(key, this.settings.presenceTtlMs).sadd(this.roomKeysKey, room);
    }
    this.touch(m);
    await this.written(m.exec());
  }

  /** Members of `room` on every live instance; `undefined` while Redis is away or slower than {@link QUERY_TIMEOUT_MS}. */
  members(room: string): Promise<WsRoomMember[] | undefined> {
    return withinDeadline(this.queryMembers(room));
  }

  /** Every connection on every live instance; `undefined` while Redis is away or slower than {@link QUERY_TIMEOUT_MS}. */
  online(): Promise<WsOnlineConnection[] | undefined> {
    return withinDeadline(this.queryOnline());
  }

  private async queryMembers(room: string): Promise<WsRoomMember[] | undefined> {
    const client = this.bus.client;
    if (!client) return undefined;
    try {
      const instances = await this.liveInstances(client);
      const p = client.pipeline();
      for (const id of instances) p.hgetall(this.roomKey(id, room));
      const replies = (await p.exec()) ?? [];
      const members: WsRoomMember[] = [];
      replies.forEach(([err, hash], i) => {
        if (err || !hash) return;
        for (const [connectionId, userId] of Object.entries(hash as Record<string, string>)) {
          members.push({ connectionId, instanceId: instances[i]!, userId: userId || undefined });
        }
      });
      return members;
    } catch {
      return undefined;
    }
  }

  private async queryOnline(): Promise<WsOnlineConnection[] | undefined> {
    const client = this.bus.client;
    if (!client) return undefined;
    try {
      const instances = await this.liveInstances(client);
      const p = client.pipeline();
      for (const id of instances) p.hgetall(`${this.settings.keyPrefix}conns:${id}`);
      const replies = (await p.exec()) ?? [];
      const online: WsOnlineConnection[] = [];
      replies.forEach(([err, hash], i) => {
        if (err || !hash) return;
        for (const [connectionId, json] of Object.entries(hash as Record<string, string>)) {
          const entry = parseEntry(json);
          if (entry) online.push({ connectionId, instanceId: instances[i]!, userId: entry.user, rooms: entry.rooms });
        }
      });
      return online;
    } catch {
      return undefined;
    }
  }

  private refresh(): void {
    const client = this.bus.client;
    if (!client) return;
    const ttl = this.settings.presenceTtlMs;
    const p = client.pipeline().pexpire(this.connsKey, ttl);
    for (const room of this.registry.roomNames()) p.pexpire(this.roomKey(this.instanceId, room), ttl);
    this.touch(p);
    p.exec().then((replies) => {
      // A key that no longer exists (expired during a long stall, flushed) means lost entries: rewrite them.
      if (this.registry.connections.size > 0 && replies?.[0]?.[1] === 0) void this.resync();
    }, ignore);
  }

  /**
   * Accounts for one write: a failed command (Redis refusing it, such as OOM, or the
   * connection failing) counts in `ws_broadcast_failed_total{reason="presence"}`, and
   * the first failure of a streak is logged, so stale presence never goes unseen.
   */
  private written(exec: Promise<ExecResult>): Promise<void> {
    return exec.then(
      (replies) => {
        const failed = replies?.find(([err]) => err)?.[0];
        if (failed) this.failed(failed);
        else this.failing = false;
      },
      (err: unknown) => this.failed(err),
    );
  }

  private failed(err: unknown): void {
    this.metrics.failed('presence');
    if (this.failing) return;
    this.failing = true;
    this.log.logger.warn(
      { [F.backend]: 'redis', [F.instanceId]: this.instanceId, [F.reason]: err instanceof Error ? err.message.slice(0, 200) : 'write failed' },
      WS_LOG_MESSAGES.presenceWriteFailed,
    );
  }

  private touch(p: ChainableCommander): void {
    const now = Date.now();
    p.zadd(this.instancesKey, now + this.settings.presenceTtlMs, this.instanceId).zremrangebyscore(this.instancesKey, '-inf', now).pexpire(this.connsKey, this.settings.presenceTtlMs).pexpire(this.roomKeysKey, this.settings.presenceTtlMs);
  }

  private async liveInstances(client: Redis): Promise<string[]> {
    return client.zrangebyscore(this.instancesKey, Date.now(), '+inf');
  }

  private writeConnection(p: ChainableCommander, state: WsConnectionState): ChainableCommander {
    const value = JSON.stringify({ user: state.context.user?.id, rooms: [...this.registry.roomsOf(state)] });
    return p.hset(this.connsKey, state.context.connectionId, value).pexpire(this.connsKey, this.settings.presenceTtlMs);
  }

  private removeMember(p: ChainableCommander, state: WsConnectionState, room: string): ChainableCommander {
    p.hdel(this.roomKey(this.instanceId, room), state.context.connectionId);
    if (this.registry.room(room).size === 0) p.srem(this.roomKeysKey, room);
    return p;
  }

  private roomKey(instanceId: string, room: string): string {
    return `${this.settings.keyPrefix}room:${instanceId}:${room}`;
  }
}

function parseEntry(json: string): { user: string | undefined; rooms: string[] } | undefined {
  try {
    const v = JSON.parse(json) as { user?: unknown; rooms?: unknown };
    return { user: typeof v.user === 'string' ? v.user : undefined, rooms: Array.isArray(v.rooms) ? v.rooms.filter((r): r is string => typeof r === 'string') : [] };
  } catch {
    return undefined;
  }
}

/**
 * Longest wait for a presence query: past it the caller answers from this
 * instance alone, marked incomplete (a stalled Redis would otherwise hold an
 * HTTP request for two command timeouts).
 */
const QUERY_TIMEOUT_MS = 1000;

function withinDeadline<T>(query: Promise<T | undefined>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), QUERY_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([query, late]).finally(() => clearTimeout(timer));
}
