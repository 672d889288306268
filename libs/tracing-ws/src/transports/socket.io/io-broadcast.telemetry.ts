import type { INestApplicationContext } from '@nestjs/common';
import { context as otelContext, SpanKind, trace, type Attributes, type SpanContext, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { isPublication, type WsPublication } from '../../core/broadcast/ws-broadcast.envelope.js';
import { sanitizeClientText } from '../../core/model/client-text.js';
import { formatTraceparent, parseTraceparent } from '../../core/model/trace-context.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../../core/model/tracing-ws.constants.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../../core/model/tracing-ws.names.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../../core/model/tracing-ws.tokens.js';
import { currentWsStore } from '../../core/model/ws-cls.store.js';
import { WS_MESSAGING_SYSTEMS } from '../../core/model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../../core/options/tracing-ws.options.js';
import { publisherContext } from '../../core/telemetry/span-context.js';
import { WsBroadcastMetrics } from '../../core/telemetry/ws-broadcast.metrics.js';
import { broadcastLine, chooseTraceId, MAX_ROOM_TEXT, type WsLogFields } from '../../core/telemetry/ws-log.fields.js';
import { WsLogger } from '../../core/telemetry/ws.logger.js';
import { appOfIoServer } from './io-server.registry.js';

/**
 * The broadcast flag that carries a publication across instances. The Redis
 * adapter serialises `opts.flags` as they are and hands them back to the
 * receiving instance's delivery; socket.io reads only the flags it knows
 * (`volatile`, `compress`, `local`, …), so this one never reaches a client.
 */
export const IO_PUBLICATION_FLAG = 'tracingWs';

/** A broadcast as this module sees it: the namespace, the rooms it goes to. */
export interface IoBroadcastTarget {
  readonly namespace: string;
  readonly rooms: ReadonlySet<unknown>;
}

/** The part of a Redis client this module calls: ioredis and node-redis both have it. */
export interface RedisPublisher {
  publish(channel: string, message: string | Buffer): unknown;
}

const SOCKET_IO = WS_MESSAGING_SYSTEMS['socket.io'];
/** socket.io's default event name for `send()`; also used when a packet names none. */
const DEFAULT_EVENT = 'message';

/** `messaging.destination.name`: the room (rooms, comma-separated), else the namespace. */
function destinationOf(target: IoBroadcastTarget): string {
  if (target.rooms.size === 0) return target.namespace;
  return [...target.rooms].map(String).join(',').slice(0, MAX_ROOM_TEXT);
}

/** The event of a socket.io EVENT / BINARY_EVENT packet (its first argument). */
export function eventOf(packet: { readonly data?: unknown }): string {
  const first = Array.isArray(packet.data) ? (packet.data[0] as unknown) : undefined;
  return sanitizeClientText(first, MAX_ROOM_TEXT) ?? DEFAULT_EVENT;
}

/** The publication a delivery from Redis carries, if it is a well-formed one. */
export function publicationOf(flags: Readonly<Record<string, unknown>> | undefined): WsPublication | undefined {
  const value = flags?.[IO_PUBLICATION_FLAG];
  return isPublication(value) ? value : undefined;
}

/**
 * The spans, log lines and metrics of socket.io broadcasts that cross instances
 * through Redis, one per Nest app: a `send <event>` span (PRODUCER) around the
 * publication and its local delivery, a `process <event>` span (CONSUMER) around
 * the delivery on every other instance, child of and linked to the publisher's;
 * `ws.broadcast` lines on both sides; the `ws_broadcast_*` families. Internal.
 */
export class IoBroadcastTelemetry {
  private static readonly byApp = new WeakMap<INestApplicationContext, IoBroadcastTelemetry>();
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  /** Publishing clients in a streak of failures: one down line per streak, one up line when it ends. */
  private readonly down = new WeakSet<RedisPublisher>();

  private constructor(
    private readonly options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
    private readonly metrics: WsBroadcastMetrics,
    private readonly cls: ClsService,
  ) {}

  /** The telemetry of the app whose TracingIoAdapter created `server`; throws, naming the fix, for any other server. */
  static of(server: Parameters<typeof appOfIoServer>[0], namespace: string): IoBroadcastTelemetry {
    const app = appOfIoServer(server);
    if (!app) {
      throw new Error(
        `createTracedRedisAdapter: the socket.io server of namespace "${namespace}" was not created by TracingIoAdapter. ` +
          'Install it with app.useWebSocketAdapter(new TracingIoAdapter(app)), then set server.adapter(...) after super.createIOServer() in a subclass, or in a gateway\'s afterInit.',
      );
    }
    let telemetry = this.byApp.get(app);
    if (!telemetry) {
      const get = <T>(token: unknown): T => app.get(token as never, { strict: false }) as T;
      telemetry = new IoBroadcastTelemetry(get(RESOLVED_OPTIONS), get(WsLogger), get(WsBroadcastMetrics), get(ClsService));
      this.byApp.set(app, telemetry);
    }
    return telemetry;
  }

  /**
   * Runs `publish` (the adapter's publication, with Redis, and local delivery) in a
   * `send <event>` span of the current trace, giving it the flags to publish
   * with; `publish` returns the number of local recipients. `crossInstance`: the
   * adapter publishes to other instances (the span then names the publication).
   */
  send(target: IoBroadcastTarget, event: string, flags: object | undefined, crossInstance: boolean, publish: (flags: object) => number): void {
    const id = randomUUID();
    const attributes: Attributes = {
      [A.messagingSystem]: SOCKET_IO,
      [A.messagingOperationType]: 'send',
      [A.messagingOperationName]: 'send',
      [A.messagingDestinationName]: destinationOf(target),
    };
    if (crossInstance) {
      attributes[A.messagingMessageId] = id;
      attributes[A.broadcastInstanceId] = this.options.broadcast.instanceId;
    }
    const span = this.tracer.startSpan(`send ${event}`, { kind: SpanKind.PRODUCER, attributes });
    otelContext.with(trace.setSpan(otelContext.active(), span), () => {
      try {
        const spanContext = span.spanContext();
        const valid = trace.isSpanContextValid(spanContext);
        const store = currentWsStore(this.cls);
        const traceId = chooseTraceId(spanContext, store?.[WS_MESSAGE_CONTEXT], store?.[WS_CONNECTION_CONTEXT]);
        const publication: WsPublication = {
          v: 1,
          id,
          origin: this.options.broadcast.instanceId,
          event,
          // Undefined fields are left out by the adapter's encoder, as by JSON.stringify.
          ...(valid ? { traceparent: formatTraceparent(spanContext) } : traceId ? { traceId } : {}),
          publishedAt: Date.now(),
        };
        const delivered = publish({ ...flags, [IO_PUBLICATION_FLAG]: publication });
        span.setAttribute(A.messagingBatchCount, delivered);
        this.logDelivery(target, event, delivered, spanContext, traceId, undefined);
      } finally {
        span.end();
      }
    });
  }

  /**
   * Runs `deliver` (this instance's delivery of a broadcast another instance
   * published) in a `process <event>` span, child of and linked to the
   * publisher's; `deliver` returns the number of local recipients.
   */
  receive(target: IoBroadcastTarget, publication: WsPublication, deliver: () => number): void {
    this.metrics.received.inc();
    const lagMs = Math.max(0, Date.now() - publication.publishedAt);
    this.metrics.lag.observe(lagMs / 1000);
    const event = sanitizeClientText(publication.event, MAX_ROOM_TEXT) ?? DEFAULT_EVENT;
    const origin = sanitizeClientText(publication.origin, MAX_ROOM_TEXT) ?? '';
    const publisher = parseTraceparent(publication.traceparent);
    const { parent, links } = publisherContext(publisher);
    const attributes: Attributes = {
      [A.messagingSystem]: SOCKET_IO,
      [A.messagingOperationType]: 'process',
      [A.messagingOperationName]: 'process',
      [A.messagingDestinationName]: destinationOf(target),
      [A.messagingMessageId]: publication.id.slice(0, MAX_ROOM_TEXT),
      [A.broadcastInstanceId]: this.options.broadcast.instanceId,
      [A.broadcastOriginInstanceId]: origin,
    };
    const span = this.tracer.startSpan(`process ${event}`, { kind: SpanKind.CONSUMER, attributes, links }, parent);
    otelContext.with(trace.setSpan(parent, span), () => {
      try {
        const delivered = deliver();
        span.setAttribute(A.messagingBatchCount, delivered);
        // Without a recording SDK, the line still carries the publisher's trace id.
        const publisherTraceId = publisher?.traceId ?? publication.traceId;
        this.logDelivery(target, event, delivered, span.spanContext(), publisherTraceId, { origin, lagMs });
      } finally {
        span.end();
      }
    });
  }

  /**
   * `client` with a `publish` that never throws nor leaves a rejection unhandled:
   * an accepted publication is counted in `ws_broadcast_published_total`, a failed
   * one (Redis down, no offline queue) in `ws_broadcast_failed_total{reason="publish"}`,
   * with one `ws.broadcast_backend_down` line per streak of failures.
   */
  guard(client: RedisPublisher): RedisPublisher {
    const failed = (err: unknown): void => this.publishFailed(client, err);
    const published = (): void => this.published(client);
    return {
      publish: (channel, message) => {
        try {
          Promise.resolve(client.publish(channel, message)).then(published, failed);
        } catch (err) {
          failed(err);
        }
      },
    };
  }

  private published(client: RedisPublisher): void {
    this.metrics.published.inc();
    if (!this.down.delete(client)) return;
    this.log.logger.info(this.backendLine(undefined), WS_LOG_MESSAGES.broadcastBackendUp);
  }

  private publishFailed(client: RedisPublisher, err: unknown): void {
    this.metrics.failed('publish');
    if (this.down.has(client)) return;
    this.down.add(client);
    this.log.logger.warn(this.backendLine(err instanceof Error ? err.message : String(err)), WS_LOG_MESSAGES.broadcastBackendDown);
  }

  private backendLine(reason: string | undefined): WsLogFields {
    const fields: WsLogFields = { [F.backend]: 'redis', [F.transport]: 'socket.io', [F.instanceId]: this.options.broadcast.instanceId };
    if (reason !== undefined) fields[F.reason] = reason;
    return fields;
  }

  private logDelivery(target: IoBroadcastTarget, event: string, delivered: number, spanContext: SpanContext, fallbackTraceId: string | undefined, remote: { origin: string; lagMs: number } | undefined): void {
    const logger = this.log.logger;
    const level = this.options.messageLogLevel;
    if (!logger.isLevelEnabled(level)) return;
    const room = target.rooms.size > 0 ? destinationOf(target) : undefined;
    const fields = broadcastLine(event, room, delivered, spanContext, fallbackTraceId);
    fields[F.path] = target.namespace;
    fields[F.transport] = 'socket.io';
    fields[F.instanceId] = this.options.broadcast.instanceId;
    if (remote) {
      fields[F.originInstanceId] = remote.origin;
      fields[F.lagMs] = remote.lagMs;
    }
    logger[level](fields, WS_LOG_MESSAGES.broadcast);
  }
}
