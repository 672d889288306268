import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { COMMAND_TIMEOUT_MS, redisConnectionOptions } from '../broadcast/redis-connection.options.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import type { WsLogger } from '../telemetry/ws.logger.js';

type RedisSettings = NonNullable<ResolvedTracingWsOptions['broadcast']['redis']>;

/** What one instance is asked to do (see `WsAdminCluster`). */
export type WsAdminCommandKind = 'list' | 'disconnect' | 'watch' | 'unwatch' | 'debug';
const KINDS: readonly string[] = ['list', 'disconnect', 'watch', 'unwatch', 'debug'];

export interface WsAdminCommand {
  readonly id: string;
  readonly from: string;
  readonly kind: WsAdminCommandKind;
  readonly body: Record<string, unknown>;
}

/** The replies to one command: one per instance that answered in time. */
export interface WsAdminReplies {
  readonly replies: unknown[];
  /** Every instance subscribed when it was sent answered. */
  readonly complete: boolean;
}

export interface RedisAdminHandlers {
  /** Runs a command on this instance; its result is the reply. Never throws. */
  command(command: WsAdminCommand): unknown;
  /** An event of a watch this instance holds, from whichever instance saw it. */
  trace(watchId: string, event: Record<string, unknown>): void;
}

/** Events waiting for Redis at most; more are dropped (a live trace never grows memory). */
const MAX_IN_FLIGHT = 1000;

interface Pending {
  readonly replies: unknown[];
  expected: number;
  readonly resolve: (complete: boolean) => void;
}

/**
 * The admin surface's own Redis pub/sub, next to (not on) the broadcast channel, with
 * the configured URL and prefix: `<prefix>admin:ctl` carries commands to every
 * instance, `<prefix>admin:reply:<instance>` the replies to the instance that asked,
 * `<prefix>admin:trace:<instance>` the live events of the watches that instance holds.
 * PUBLISH answers how many instances received a command: a request waits for that
 * many replies, or its timeout. Internal.
 */
export class RedisAdminBus {
  private pub: Redis | undefined;
  private sub: Redis | undefined;
  private ready = false;
  private inFlight = 0;
  private readonly pending = new Map<string, Pending>();
  private readonly ctl: string;
  private readonly replyChannel: string;
  private readonly traceChannel: string;
  private readonly done = (): void => {
    this.inFlight--;
  };

  constructor(
    private readonly settings: RedisSettings,
    private readonly instanceId: string,
    private readonly log: WsLogger,
    private readonly handlers: RedisAdminHandlers,
  ) {
    this.ctl = `${settings.keyPrefix}admin:ctl`;
    this.replyChannel = `${settings.keyPrefix}admin:reply:${instanceId}`;
    this.traceChannel = `${settings.keyPrefix}admin:trace:${instanceId}`;
  }

  get up(): boolean {
    return this.ready;
  }

  async start(): Promise<void> {
    const { Redis } = await import('ioredis');
    const pub = (this.pub = new Redis(this.settings.url, redisConnectionOptions(`${this.instanceId}:admin-pub`)));
    const sub = (this.sub = new Redis(this.settings.url, { ...redisConnectionOptions(`${this.instanceId}:admin-sub`), autoResubscribe: false }));
    let subscribed = false;
    let pubReady = false;
    const update = (): void => void (this.ready = subscribed && pubReady);
    pub.on('ready', () => ((pubReady = true), update()));
    pub.on('close', () => ((pubReady = false), update()));
    sub.on('ready', () => {
      sub.subscribe(this.ctl, this.replyChannel, this.traceChannel).then(() => ((subscribed = true), update()), () => undefined);
    });
    sub.on('close', () => ((subscribed = false), update()));
    sub.on('message', (channel: string, text: string) => this.onMessage(channel, text));
    const down = (err: unknown): void => {
      if (this.log.logger.isLevelEnabled('debug')) this.log.logger.debug({ [F.backend]: 'redis', [F.reason]: err instanceof Error ? err.message : 'closed' }, WS_LOG_MESSAGES.adminBackendDown);
    };
    pub.on('error', down);
    sub.on('error', down);
    // A request made right after start waits for the subscription rather than reporting one instance.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, COMMAND_TIMEOUT_MS);
      const check = setInterval(() => {
        if (!this.ready) return;
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }, 10);
      timer.unref();
    });
  }

  /** Sends a command to every instance (this one included); undefined while Redis is away. */
  async request(kind: WsAdminCommandKind, body: Record<string, unknown>, timeoutMs: number): Promise<WsAdminReplies | undefined> {
    const pub = this.pub;
    if (!this.ready || !pub) return undefined;
    const id = randomUUID();
    const replies: unknown[] = [];
    let timer: NodeJS.Timeout | undefined;
    const settled = new Promise<boolean>((resolve) => {
      this.pending.set(id, { replies, expected: Number.POSITIVE_INFINITY, resolve });
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const receivers = await pub.publish(this.ctl, JSON.stringify({ id, from: this.instanceId, kind, body }));
      const entry = this.pending.get(id);
      if (entry) {
        entry.expected = receivers;
        if (replies.length >= receivers) entry.resolve(true);
      }
      const complete = await settled;
      return { replies: [...replies], complete };
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  /** Publishes a live event to the instance holding the watch; false (dropped) while Redis is away or backlogged. */
  publishTrace(origin: string, watchId: string, event: Record<string, unknown>): boolean {
    const pub = this.pub;
    if (!this.ready || !pub || this.inFlight >= MAX_IN_FLIGHT) return false;
    this.inFlight++;
    pub.publish(`${this.settings.keyPrefix}admin:trace:${origin}`, JSON.stringify({ w: watchId, e: event })).then(this.done, this.done);
    return true;
  }

  async stop(): Promise<void> {
    for (const entry of this.pending.values()) entry.resolve(false);
    const close = async (c: Redis | undefined): Promise<void> => {
      if (!c) return;
      if (c.status !== 'ready') return void c.disconnect();
      const timer = setTimeout(() => c.disconnect(), 1000);
      await c.quit().catch(() => c.disconnect());
      clearTimeout(timer);
    };
    await Promise.all([close(this.pub), close(this.sub)]);
    this.ready = false;
  }

  private onMessage(channel: string, text: string): void {
    let message: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) return;
      message = parsed as Record<string, unknown>;
    } catch {
      return;
    }
    if (channel === this.traceChannel) {
      if (typeof message.w === 'string' && typeof message.e === 'object' && message.e !== null) this.handlers.trace(message.w, message.e as Record<string, unknown>);
    } else if (channel === this.replyChannel) {
      const entry = typeof message.id === 'string' ? this.pending.get(message.id) : undefined;
      if (!entry) return;
      entry.replies.push(message.body);
      if (entry.replies.length >= entry.expected) entry.resolve(true);
    } else if (channel === this.ctl) {
      const { id, from, kind, body } = message;
      if (typeof id !== 'string' || typeof from !== 'string' || typeof kind !== 'string' || !KINDS.includes(kind) || typeof body !== 'object' || body === null) return;
      const reply = this.handlers.command({ id, from, kind: kind as WsAdminCommandKind, body: body as Record<string, unknown> });
      this.pub?.publish(`${this.settings.keyPrefix}admin:reply:${from}`, JSON.stringify({ id, body: reply ?? null })).catch(() => undefined);
    }
  }
}
