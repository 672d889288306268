import type { Redis } from 'ioredis';
import { redisConnectionOptions } from './redis-connection.options.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import type { WsLogger } from '../telemetry/ws.logger.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import type { WsBroadcastMetrics } from '../telemetry/ws-broadcast.metrics.js';
import { defineHistoryCommands } from './redis-history.scripts.js';

type RedisSettings = NonNullable<ResolvedTracingWsOptions['broadcast']['redis']>;

/**
 * Both connections send a PING this often, and a connection that receives nothing
 * for SOCKET_TIMEOUT_MS while it waits for an answer is destroyed: a stalled Redis
 * (SIGSTOP, a frozen VM) is noticed within about 4 s, like a dead one. The
 * subscriber sends no commands otherwise (PING is allowed in subscriber mode).
 */
const PING_INTERVAL_MS = 1000;
const SOCKET_TIMEOUT_MS = 3000;
/** Bound on the goodbye (presence removal, QUIT) at shutdown. */
const STOP_TIMEOUT_MS = 1000;

/** What the bus tells its owner. */
export interface RedisBusEvents {
  /** An envelope arrived on the channel (own publications included). */
  envelope(text: string): void;
  /** Both connections are usable again (initially, or after an outage). */
  up(): void;
}

/**
 * The two ioredis connections of the Redis broadcast backend: one that publishes
 * and writes presence (no offline queue, so a command fails at once while Redis
 * is away and is counted rather than buffered without bound), and one that only
 * subscribes. ioredis reconnects by itself; the subscription is renewed on
 * every `ready`. Nothing here ever throws to a caller. Internal.
 */
export class RedisBroadcastBus {
  readonly channel: string;
  private pub: Redis | undefined;
  private sub: Redis | undefined;
  private pubReady = false;
  private subscribed = false;
  private reported: 'up' | 'down' | undefined;
  private stopping = false;
  private inFlight = 0;
  private pinger: NodeJS.Timeout | undefined;
  private upWaiters: Array<() => void> = [];
  private readonly onPublished = (): void => {
    this.inFlight--;
    this.metrics.published.inc();
  };
  // Timed out or cut off while waiting: Redis may still run it (outcome unknown).
  private readonly onPublishFailed = (): void => {
    this.inFlight--;
    this.metrics.failed('timeout');
  };

  constructor(
    private readonly settings: RedisSettings,
    private readonly instanceId: string,
    private readonly log: WsLogger,
    private readonly metrics: WsBroadcastMetrics,
    private readonly events: RedisBusEvents,
  ) {
    this.channel = `${settings.keyPrefix}broadcast`;
  }

  /** True while envelopes can be both published and received. */
  get up(): boolean {
    return this.pubReady && this.subscribed;
  }

  /** The publishing connection, when it is ready for commands. */
  get client(): Redis | undefined {
    return this.pubReady ? this.pub : undefined;
  }

  /**
   * The publishing connection once the bus is up, waiting at most `timeoutMs` for it (an
   * instance that just started, or Redis coming back); `undefined` if it is not up by then.
   */
  async clientWithin(timeoutMs: number): Promise<Redis | undefined> {
    if (!this.up && !this.stopping) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.upWaiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return this.up ? this.pub : undefined;
  }

  /** Opens both connections; resolves at once, whether Redis answers or not. */
  async start(): Promise<void> {
    // Loaded only when a Redis backend is configured: in-memory apps need no ioredis.
    const { Redis } = await import('ioredis');
    const pub = new Redis(this.settings.url, { ...redisConnectionOptions(`${this.instanceId}:pub`), socketTimeout: SOCKET_TIMEOUT_MS, enableAutoPipelining: true });
    const sub = new Redis(this.settings.url, { ...redisConnectionOptions(`${this.instanceId}:sub`), socketTimeout: SOCKET_TIMEOUT_MS, autoResubscribe: false });
    defineHistoryCommands(pub);
    this.pub = pub;
    this.sub = sub;
    pub.on('ready', () => {
      this.pubReady = true;
      this.update();
    });
    pub.on('close', () => {
      this.pubReady = false;
      this.update();
    });
    sub.on('ready', () => {
      sub.subscribe(this.channel).then(
        () => {
          this.subscribed = true;
          this.update();
        },
        // The connection is going away; the next `ready` subscribes again.
        (err: unknown) => this.down(err),
      );
    });
    sub.on('close', () => {
      this.subscribed = false;
      this.update();
    });
    sub.on('message', (_channel: string, text: string) => this.events.envelope(text));
    // Without a listener ioredis prints every connection error; one line per outage is enough.
    pub.on('error', (err: unknown) => this.down(err));
    sub.on('error', (err: unknown) => this.down(err));
    const ping = (c: Redis): void => {
      if (c.status === 'ready') c.ping().catch(() => undefined);
    };
    this.pinger = setInterval(() => {
      ping(pub);
      ping(sub);
    }, PING_INTERVAL_MS);
    this.pinger.unref();
  }

  /**
   * Publishes `text`; a failure is counted (`publish`: Redis down, not sent;
   * `backlog`: too many publishes already waiting, not sent; `timeout`: no
   * answer in time, outcome unknown), never thrown.
   */
  publish(text: string): void {
    this.send((pub) => pub.publish(this.channel, text), this.pubReady);
  }

  /**
   * Runs a publishing command other than PUBLISH (the room history's script, which
   * publishes too) under the same rules: refused and counted as `publish` while Redis
   * is down, as `backlog` past `maxInFlightPublishes`; `published` or `timeout` once settled.
   * Returns false when it was not sent.
   */
  publishWith(command: (pub: Redis) => Promise<unknown>): boolean {
    // Both connections: a numbered broadcast reaches local members only through the subscription.
    return this.send(command, this.up);
  }

  private send(command: (pub: Redis) => Promise<unknown>, ready: boolean): boolean {
    if (!ready || !this.pub) {
      this.metrics.failed('publish');
      return false;
    }
    // ioredis has no bound on its command queue: the library keeps one.
    if (this.inFlight >= this.settings.maxInFlightPublishes) {
      this.metrics.failed('backlog');
      return false;
    }
    this.inFlight++;
    command(this.pub).then(this.onPublished, this.onPublishFailed);
    return true;
  }

  /** Closes both connections (QUIT when possible), within a bounded time. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pinger);
    const close = async (c: Redis | undefined): Promise<void> => {
      if (!c) return;
      if (c.status === 'ready') {
        const timer = setTimeout(() => c.disconnect(), STOP_TIMEOUT_MS);
        await c.quit().catch(() => c.disconnect());
        clearTimeout(timer);
      } else {
        c.disconnect();
      }
    };
    await Promise.all([close(this.pub), close(this.sub)]);
    this.pubReady = false;
    this.subscribed = false;
  }

  private update(): void {
    const up = this.up;
    this.metrics.backendUp.set(up ? 1 : 0);
    if (up && this.upWaiters.length > 0) for (const resolve of this.upWaiters.splice(0)) resolve();
    if (up && this.reported !== 'up') {
      this.reported = 'up';
      this.log.logger.info({ [F.backend]: 'redis', [F.instanceId]: this.instanceId }, WS_LOG_MESSAGES.broadcastBackendUp);
      this.events.up();
    } else if (!up && this.reported === 'up') {
      this.down(undefined);
    }
  }

  private down(err: unknown): void {
    if (this.reported === 'down' || this.stopping) return;
    this.reported = 'down';
    this.metrics.backendUp.set(0);
    const reason = err instanceof Error ? err.message : 'connection closed';
    this.log.logger.warn(
      { [F.backend]: 'redis', [F.instanceId]: this.instanceId, [F.reason]: reason },
      WS_LOG_MESSAGES.broadcastBackendDown,
    );
  }
}
