import type { Namespace, ServerOptions } from 'socket.io';
import { IoBroadcastTelemetry, type RedisPublisher } from './io-broadcast.telemetry.js';
import { tracedAdapterClass, type IoAdapterClass, type TracedAdapterClass } from './io-traced.adapter.js';

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

let loading: Promise<TracedAdapterClass> | undefined;

/** Loads `@socket.io/redis-adapter` (an optional peer: only apps that call this need it) and checks the internals this module relies on. */
async function loadTracedClass(): Promise<TracedAdapterClass> {
  let mod: { RedisAdapter?: unknown; default?: { RedisAdapter?: unknown } };
  try {
    mod = (await import('@socket.io/redis-adapter')) as typeof mod;
  } catch (err) {
    throw new Error('createTracedRedisAdapter needs @socket.io/redis-adapter 8.3.x: npm install @socket.io/redis-adapter@~8.3.0', { cause: err });
  }
  const Base = (mod.RedisAdapter ?? mod.default?.RedisAdapter) as IoAdapterClass | undefined;
  const proto = Base?.prototype as Partial<Record<'broadcast' | 'apply' | 'onmessage', unknown>> | undefined;
  if (!Base || typeof proto?.broadcast !== 'function' || typeof proto.apply !== 'function' || typeof proto.onmessage !== 'function') {
    throw new Error('createTracedRedisAdapter: this @socket.io/redis-adapter has not the RedisAdapter it was tested with; install @socket.io/redis-adapter@~8.3.0.');
  }
  return tracedAdapterClass(Base);
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
    return new Traced(IoBroadcastTelemetry.of(nsp.server, nsp.name), nsp, pubClient, subClient, opts);
  } as unknown as TracedRedisAdapterFactory;
}
