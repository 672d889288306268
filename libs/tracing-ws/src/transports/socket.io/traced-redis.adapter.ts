import type { Namespace, ServerOptions, Socket } from 'socket.io';
import { eventOf, IoBroadcastTelemetry, publicationOf, type IoBroadcastTarget, type RedisPublisher } from './io-broadcast.telemetry.js';

/** Options of `@socket.io/redis-adapter`'s `createAdapter`, passed to it unchanged. */
export interface TracedRedisAdapterOptions {
  /** Prefix of the pub/sub channels; instances that should reach each other share it. @defaultValue `'socket.io'` */
  key?: string;
  /** How long a cross-instance request (`fetchSockets`, `serverSideEmit` with ack…) waits for answers, in ms. @defaultValue `5000` */
  requestsTimeout?: number;
  /** Answer requests on a channel of the requesting instance. @defaultValue `false` */
  publishOnSpecificResponseChannel?: boolean;
  /** Encoder of the messages sent to Redis (it must carry a plain-object flag). @defaultValue notepack.io (MessagePack) */
  parser?: { encode(msg: unknown): unknown; decode(msg: unknown): unknown };
}

/** What socket.io's `server.adapter()` and its `adapter` option take: a factory of one adapter per namespace. */
export type TracedRedisAdapterFactory = NonNullable<ServerOptions['adapter']>;

/** A broadcast's options as the Redis adapter hands them around (socket.io-adapter's `BroadcastOptions`). */
interface BroadcastOptions {
  rooms: Set<unknown>;
  except?: Set<unknown>;
  flags?: Record<string, unknown> & { local?: boolean };
}

/**
 * What this module relies on of `RedisAdapter` 8.3 beyond its documented API
 * (the reason for the pinned peer range, checked when it loads and by the tests):
 * - `broadcast()` publishes with `this.pubClient.publish(channel, msg)`, `opts.flags`
 *   included as they are, then delivers locally through `apply()`;
 * - a broadcast from Redis (`onmessage`) is delivered by the base adapter's
 *   `broadcast()`, with the decoded flags, through `apply()`.
 */
interface RedisAdapterInternals {
  readonly nsp: Namespace;
  pubClient: RedisPublisher;
  broadcast(packet: { data?: unknown }, opts: BroadcastOptions): void;
  /** Private in socket.io-adapter's types: every delivery walks its recipients through it. */
  apply(opts: BroadcastOptions, callback: (socket: Socket) => void): void;
}

type RedisAdapterClass = new (nsp: Namespace, pubClient: unknown, subClient: unknown, opts?: TracedRedisAdapterOptions) => RedisAdapterInternals;
type TracedClass = new (nsp: Namespace, pubClient: RedisPublisher, subClient: unknown, opts: TracedRedisAdapterOptions | undefined, telemetry: IoBroadcastTelemetry) => RedisAdapterInternals;

/** The broadcast under way on this adapter: its flags (so that `apply()` knows its own local delivery) and its recipients so far. */
interface Publishing {
  readonly flags: object;
  recipients: number;
}

function traced(Base: RedisAdapterClass): TracedClass {
  return class TracedRedisAdapter extends Base {
    private readonly guarded: RedisPublisher;
    private publishing: Publishing | undefined;

    constructor(
      nsp: Namespace,
      pubClient: RedisPublisher,
      subClient: unknown,
      opts: TracedRedisAdapterOptions | undefined,
      private readonly telemetry: IoBroadcastTelemetry,
    ) {
      super(nsp, pubClient, subClient, opts);
      this.guarded = telemetry.guard(pubClient);
    }

    override broadcast(packet: { data?: unknown }, opts: BroadcastOptions): void {
      // A local-only broadcast never leaves this instance: nothing to trace across.
      if (opts.flags?.local) return super.broadcast(packet, opts);
      const target: IoBroadcastTarget = { namespace: this.nsp.name, rooms: opts.rooms };
      this.telemetry.send(target, eventOf(packet), opts.flags, (flags) => {
        const previous = this.publishing;
        const publishing: Publishing = { flags, recipients: 0 };
        const client = this.pubClient;
        this.publishing = publishing;
        // Only this broadcast's publication goes through the guarded client (synchronously).
        this.pubClient = this.guarded;
        try {
          super.broadcast(packet, { ...opts, flags: flags as BroadcastOptions['flags'] });
        } finally {
          this.pubClient = client;
          this.publishing = previous;
        }
        return publishing.recipients;
      });
    }

    override apply(opts: BroadcastOptions, callback: (socket: Socket) => void): void {
      const publishing = this.publishing;
      if (publishing && opts.flags === publishing.flags) {
        super.apply(opts, (socket) => {
          publishing.recipients++;
          callback(socket);
        });
        return;
      }
      const publication = publicationOf(opts.flags);
      if (!publication) return super.apply(opts, callback);
      // A broadcast another instance published, decoded from Redis.
      this.telemetry.receive({ namespace: this.nsp.name, rooms: opts.rooms }, publication, () => {
        let recipients = 0;
        super.apply(opts, (socket) => {
          recipients++;
          callback(socket);
        });
        return recipients;
      });
    }
  };
}

let loading: Promise<TracedClass> | undefined;

/** Loads `@socket.io/redis-adapter` (an optional peer: only apps that call this need it) and checks the internals this module relies on. */
async function loadTracedClass(): Promise<TracedClass> {
  let mod: { RedisAdapter?: unknown; default?: { RedisAdapter?: unknown } };
  try {
    mod = (await import('@socket.io/redis-adapter')) as typeof mod;
  } catch (err) {
    throw new Error('createTracedRedisAdapter needs @socket.io/redis-adapter 8.3.x: npm install @socket.io/redis-adapter@~8.3.0', { cause: err });
  }
  const Base = (mod.RedisAdapter ?? mod.default?.RedisAdapter) as RedisAdapterClass | undefined;
  const proto = Base?.prototype as Partial<Record<'broadcast' | 'apply' | 'onmessage', unknown>> | undefined;
  if (!Base || typeof proto?.broadcast !== 'function' || typeof proto.apply !== 'function' || typeof proto.onmessage !== 'function') {
    throw new Error('createTracedRedisAdapter: this @socket.io/redis-adapter has not the RedisAdapter it was tested with; install @socket.io/redis-adapter@~8.3.0.');
  }
  return traced(Base);
}

/**
 * `@socket.io/redis-adapter`'s `createAdapter` with broadcasts traced across
 * instances. A `to(room).emit()` (from a handler, an HTTP controller, anywhere)
 * runs in a `send <event>` span (kind PRODUCER) of the current trace, whose
 * `traceparent` rides in the broadcast's flags; every other instance delivers it
 * in a `process <event>` span (kind CONSUMER), child of and linked to it.
 * Clients receive exactly what the stock adapter delivers. A publication Redis
 * refuses is counted and logged, never thrown into the caller.
 *
 * The socket.io server must be created by `TracingIoAdapter`. Give the publishing
 * client `enableOfflineQueue: false` (ioredis) so that an outage fails a publication
 * at once instead of queueing it; the subscribing client keeps its queue.
 *
 * @example
 * class RedisTracingIoAdapter extends TracingIoAdapter {
 *   private adapter!: TracedRedisAdapterFactory;
 *   async connectToRedis(url: string): Promise<void> {
 *     const pubClient = new Redis(url, { enableOfflineQueue: false });
 *     this.adapter = await createTracedRedisAdapter(pubClient, pubClient.duplicate({ enableOfflineQueue: true }));
 *   }
 *   override createIOServer(port: number, options?: ServerOptions): Server {
 *     return super.createIOServer(port, options).adapter(this.adapter);
 *   }
 * }
 */
export async function createTracedRedisAdapter(pubClient: RedisPublisher, subClient: unknown, opts?: TracedRedisAdapterOptions): Promise<TracedRedisAdapterFactory> {
  loading ??= loadTracedClass();
  const promise = loading;
  // A failed load (package missing) is retried on the next call.
  promise.catch(() => {
    if (loading === promise) loading = undefined;
  });
  const Traced = await promise;
  // A function, not an arrow: socket.io calls it with `new` (an object it returns is the adapter).
  return function tracedRedisAdapter(nsp: Namespace) {
    return new Traced(nsp, pubClient, subClient, opts, IoBroadcastTelemetry.of(nsp.server, nsp.name));
  } as unknown as TracedRedisAdapterFactory;
}
