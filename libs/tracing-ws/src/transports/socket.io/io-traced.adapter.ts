import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { getConnectionState } from '../../core/connection/ws-connection.state.js';
import type { WsGatewayMetrics } from '../../core/telemetry/ws.metrics.js';
import { eventOf, IoBroadcastTelemetry, publicationOf, type IoBroadcastTarget, type RedisPublisher } from './io-broadcast.telemetry.js';

/** A broadcast's options as adapters hand them around (socket.io-adapter's `BroadcastOptions`). */
interface BroadcastOptions {
  rooms: Set<unknown>;
  except?: Set<unknown>;
  flags?: Record<string, unknown> & { local?: boolean };
}

/**
 * What this module relies on of a socket.io adapter beyond its documented API
 * (socket.io-adapter 2.5's in-memory adapter, `@socket.io/redis-adapter` 8.3;
 * checked when they load and by the tests):
 * - `broadcast()` delivers through `apply()`, with the options it was given;
 * - the Redis adapter publishes with `this.pubClient.publish(channel, msg)`,
 *   `opts.flags` included as they are, and delivers a broadcast from Redis
 *   through `apply()` with the decoded flags.
 */
export interface IoAdapterInternals {
  readonly nsp: Namespace;
  /** The Redis adapter's publishing client; absent on the in-memory adapter. */
  pubClient?: RedisPublisher;
  broadcast(packet: { data?: unknown }, opts: BroadcastOptions): void;
  /** Private in socket.io-adapter's types: every delivery walks its recipients through it. */
  apply(opts: BroadcastOptions, callback: (socket: Socket) => void): void;
}

/** An adapter class: the in-memory one takes the namespace, the Redis one also its clients and options. */
export type IoAdapterClass = new (nsp: Namespace, ...rest: unknown[]) => IoAdapterInternals;
/** The traced subclass: the app's broadcast telemetry first, then the base class's arguments. */
export type TracedAdapterClass = new (telemetry: IoBroadcastTelemetry, nsp: Namespace, ...rest: unknown[]) => IoAdapterInternals;

/** The broadcast under way on an adapter: its flags (so that `apply()` knows its own delivery), recipients so far, and their gateway's metrics. */
interface Publishing {
  readonly flags: object;
  recipients: number;
  /** One namespace, one gateway: every recipient shares these, so they are looked up once. */
  metrics: WsGatewayMetrics | undefined;
}

/**
 * `Base` with every broadcast traced: `to(room).emit()` (from a handler, an HTTP
 * controller, a timer) runs in a `send <event>` span of the current trace and its
 * local recipients are counted (`ws_messages_sent_total`, the batch count). With
 * the Redis adapter the span's `traceparent` rides in the broadcast's flags and
 * every other instance delivers it in a `process <event>` span. Clients receive
 * exactly what the stock adapter delivers.
 */
export function tracedAdapterClass(Base: IoAdapterClass): TracedAdapterClass {
  return class TracedIoAdapter extends Base {
    private readonly guarded: RedisPublisher | undefined;
    private publishing: Publishing | undefined;

    constructor(
      private readonly telemetry: IoBroadcastTelemetry,
      nsp: Namespace,
      ...rest: unknown[]
    ) {
      super(nsp, ...rest);
      this.guarded = this.pubClient && telemetry.guard(this.pubClient);
    }

    override broadcast(packet: { data?: unknown }, opts: BroadcastOptions): void {
      // A local-only broadcast on Redis never leaves this instance: nothing to trace across.
      if (opts.flags?.local && this.guarded) return super.broadcast(packet, opts);
      const target: IoBroadcastTarget = { namespace: this.nsp.name, rooms: opts.rooms };
      const event = eventOf(packet);
      this.telemetry.send(target, event, opts.flags, this.guarded !== undefined, (flags) => {
        const previous = this.publishing;
        const publishing: Publishing = { flags, recipients: 0, metrics: undefined };
        const client = this.pubClient;
        this.publishing = publishing;
        // Only this broadcast's publication goes through the guarded client (synchronously).
        if (this.guarded) this.pubClient = this.guarded;
        try {
          super.broadcast(packet, { ...opts, flags: flags as BroadcastOptions['flags'] });
          if (publishing.recipients > 0) publishing.metrics?.event(event).sent.inc(publishing.recipients);
        } finally {
          if (this.guarded) this.pubClient = client;
          this.publishing = previous;
        }
        return publishing.recipients;
      });
    }

    override apply(opts: BroadcastOptions, callback: (socket: Socket) => void): void {
      const publishing = this.publishing;
      if (publishing && opts.flags === publishing.flags) {
        super.apply(opts, (socket) => {
          if (publishing.recipients++ === 0) publishing.metrics = getConnectionState(socket)?.metrics;
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

/** The traced subclasses of the adapter classes socket.io created (in-memory, or session-aware with connection state recovery). */
const tracedDefaults = new WeakMap<IoAdapterClass, TracedAdapterClass>();

/**
 * Makes `server`'s own adapter (the one it creates when the app names none) traced,
 * for its existing namespaces and those created later. An adapter the app sets
 * afterwards (`server.adapter(...)`) replaces it; `createTracedRedisAdapter` is the
 * traced choice for Redis.
 */
export function traceDefaultAdapter(server: Server): void {
  const Base = (server.of('/').adapter as unknown as { constructor: IoAdapterClass }).constructor;
  const proto = Base.prototype as Partial<Record<'broadcast' | 'apply', unknown>>;
  // Not the adapter this module was tested with: leave it untraced rather than break broadcasts.
  if (typeof proto.broadcast !== 'function' || typeof proto.apply !== 'function') return;
  let Traced = tracedDefaults.get(Base);
  if (!Traced) tracedDefaults.set(Base, (Traced = tracedAdapterClass(Base)));
  const Class = Traced;
  // A function, not an arrow: socket.io calls it with `new` (an object it returns is the adapter).
  server.adapter(function tracedAdapter(nsp: Namespace) {
    return new Class(IoBroadcastTelemetry.of(nsp.server, nsp.name), nsp);
  } as unknown as NonNullable<ServerOptions['adapter']>);
}
