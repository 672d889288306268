import { context as otelContext, SpanKind, trace, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import { parseTraceparent } from '../model/trace-context.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import type { WsOutgoingFrame } from '../model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { publisherContext } from '../telemetry/span-context.js';
import type { WsBroadcastMetrics } from '../telemetry/ws-broadcast.metrics.js';
import { broadcastLine, MAX_ROOM_TEXT } from '../telemetry/ws-log.fields.js';
import type { WsLogger } from '../telemetry/ws.logger.js';
import { decodeEnvelope } from './ws-broadcast.envelope.js';
import type { WsBroadcastAudience } from './ws-broadcast.types.js';
import type { WsLocalRegistry } from './ws-local.registry.js';
import { frameText } from './ws-room.history.js';
import type { WsRoomStreams } from './ws-room.streams.js';

/**
 * The local side of every broadcast: writing a frame to this instance's recipients,
 * its `ws.broadcast` line, and the delivery of envelopes that arrive from Redis (in
 * a `process <event>` span that continues the publisher's trace; a numbered room
 * broadcast, this instance's own included, through the room streams). Internal.
 */
export class WsBroadcastDelivery {
  /** Set once the room history exists (`broadcast.history`). */
  streams: WsRoomStreams | undefined;

  constructor(
    private readonly instanceId: string,
    private readonly options: ResolvedTracingWsOptions,
    private readonly tracer: Tracer,
    private readonly registry: WsLocalRegistry,
    private readonly sender: WsFrameSender,
    private readonly log: WsLogger,
    private readonly metrics: WsBroadcastMetrics,
    /** A Redis backend carries broadcasts: lines name this instance. */
    private readonly relayed: boolean,
  ) {}

  /** An envelope from Redis: deliver it to this instance's sockets, in the publisher's trace. */
  receive(text: string): void {
    const envelope = decodeEnvelope(text);
    if (!envelope) {
      this.metrics.failed('decode');
      this.log.logger.warn({ [F.instanceId]: this.instanceId, [F.backend]: 'redis' }, WS_LOG_MESSAGES.broadcastEnvelopeRejected);
      return;
    }
    const { header: h, frame, position } = envelope;
    // A numbered broadcast was not delivered by its publisher: every instance delivers it from here, in the stream's order.
    const own = h.origin === this.instanceId;
    if (own && !position) return;
    const lagMs = Math.max(0, Date.now() - h.publishedAt);
    if (!own) {
      this.metrics.received.inc();
      this.metrics.lag.observe(lagMs / 1000);
    }
    // Written before a stall and run after it: late enough to be worse than nothing.
    const staleAfterMs = this.options.broadcast.redis?.staleAfterMs ?? 0;
    if (staleAfterMs > 0 && lagMs > staleAfterMs) {
      this.metrics.failed('stale');
      // Members of a room with a history ask for it when they want it: it stays recoverable.
      if (position && h.audience === 'room') this.streams?.dropped(h.target!, position);
      return;
    }
    const parent = parseTraceparent(h.traceparent);
    const { parent: parentContext, links } = publisherContext(parent);
    const span = this.tracer.startSpan(
      `process ${h.event}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [A.messagingSystem]: 'websocket',
          [A.messagingOperationType]: 'process',
          [A.messagingOperationName]: 'process',
          [A.messagingDestinationName]: h.audience === 'room' ? h.target!.slice(0, MAX_ROOM_TEXT) : h.event,
          [A.messagingMessageId]: h.id,
          [A.messagingMessageBodySize]: Buffer.byteLength(frame),
          [A.broadcastInstanceId]: this.instanceId,
          [A.broadcastOriginInstanceId]: h.origin,
        },
        links,
      },
      parentContext,
    );
    otelContext.with(trace.setSpan(parentContext, span), () => {
      try {
        // The frame text as published: ws recipients get it as is, others decode it once.
        // A numbered one is the body without meta: its meta (position, trace id) is added here.
        let delivered: number;
        if (position && h.audience === 'room') {
          const traceId = this.options.propagateToClient ? (parent?.traceId ?? h.traceId) : undefined;
          delivered = this.streams
            ? this.streams.receive(h.target!, h.event, frame, position, traceId)
            : this.deliver('room', h.target, { kind: 'event', event: h.event, meta: undefined, text: frameText(frame, { traceId, room: h.target, ...position }) });
        } else {
          delivered = this.deliver(h.audience, h.target, { kind: 'event', event: h.event, meta: undefined, text: frame });
        }
        span.setAttribute(A.messagingBatchCount, delivered);
        // Without a recording SDK, the line still carries the publisher's trace id.
        const publisherTraceId = parent?.traceId ?? h.traceId;
        this.logDelivery(h.event, h.audience === 'room' ? h.target : undefined, delivered, span.spanContext(), publisherTraceId, own ? undefined : { origin: h.origin, lagMs });
      } finally {
        span.end();
      }
    });
  }

  /** Writes `frame` to the local sockets of the audience; walks only the recipients. */
  deliver(audience: WsBroadcastAudience, target: string | undefined, frame: WsOutgoingFrame & { kind: 'event' }): number {
    const recipients =
      audience === 'all'
        ? this.registry.connections
        : audience === 'room'
          ? this.registry.room(target!)
          : audience === 'user'
            ? this.registry.user(target!)
            : this.registry.connection(target!);
    return this.sender.sendToMany(recipients, frame, frame.event);
  }

  logDelivery(event: string, room: string | undefined, delivered: number, spanContext: SpanContext, fallbackTraceId: string | undefined, remote: { origin: string; lagMs: number } | undefined): void {
    const logger = this.log.logger;
    const level = this.options.messageLogLevel;
    if (!logger.isLevelEnabled(level)) return;
    const fields = broadcastLine(event, room, delivered, spanContext, fallbackTraceId);
    if (this.relayed) fields[F.instanceId] = this.instanceId;
    if (remote) {
      fields[F.originInstanceId] = remote.origin;
      fields[F.lagMs] = remote.lagMs;
    }
    logger[level](fields, WS_LOG_MESSAGES.broadcast);
  }
}
