import { trace, type SpanContext } from '@opentelemetry/api';
import { WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import type { WsConnectionContext, WsMessageContext } from '../model/ws-connection.context.js';
import type { WsTransportName } from '../model/ws-transport.js';

/** The fields of one log line, before pino writes it. */
export type WsLogFields = Record<string, unknown>;

interface HasTraceId {
  readonly traceId: string;
}

/**
 * The trace id that a log line, a reply or a broadcast carries: the span
 * context's when it is valid (an SDK records), else the message's, else the
 * connection's. The one statement of that rule: everything else calls it.
 */
export function chooseTraceId(spanContext: SpanContext | undefined, message: HasTraceId | undefined, connection: HasTraceId): string;
export function chooseTraceId(spanContext: SpanContext | undefined, message: HasTraceId | undefined, connection: HasTraceId | undefined): string | undefined;
export function chooseTraceId(spanContext: SpanContext | undefined, message: HasTraceId | undefined, connection: HasTraceId | undefined): string | undefined {
  if (spanContext !== undefined && trace.isSpanContextValid(spanContext)) return spanContext.traceId;
  return message?.traceId ?? connection?.traceId;
}

/**
 * Adds `trace_id`, `span_id` and `trace_flags` of `spanContext` when it is valid,
 * else only `trace_id` (the rule of {@link chooseTraceId}, with its fallbacks).
 */
export function addTraceFields(fields: WsLogFields, spanContext: SpanContext | undefined, message: HasTraceId | undefined, connection: HasTraceId | undefined): WsLogFields {
  const traceId = chooseTraceId(spanContext, message, connection);
  if (traceId === undefined) return fields;
  fields[F.traceId] = traceId;
  // The span's own ids only when the rule chose the span's trace.
  if (spanContext !== undefined && traceId === spanContext.traceId && trace.isSpanContextValid(spanContext)) {
    fields[F.spanId] = spanContext.spanId;
    fields[F.traceFlags] = `0${spanContext.traceFlags.toString(16)}`.slice(-2);
  }
  return fields;
}

/** Who a line is about: `connection_id`, `connection_trace_id`, `user_id`. */
function identity(connection: WsConnectionContext): WsLogFields {
  const fields: WsLogFields = {
    [F.connectionId]: connection.connectionId,
    [F.connectionTraceId]: connection.traceId,
  };
  if (connection.user) fields[F.userId] = connection.user.id;
  return fields;
}

/**
 * A line about a connection (lifecycle, abuse, heartbeat, backpressure): its
 * identity, its gateway path and transport, and the trace of its handshake span.
 */
export function connectionLine(connection: WsConnectionContext): WsLogFields {
  const fields = identity(connection);
  fields[F.path] = connection.path;
  fields[F.transport] = connection.transport;
  return addTraceFields(fields, connection.handshakeSpanContext, undefined, connection);
}

/** A line about one message: the connection's identity and path, the event, and the message span's trace. */
export function messageLine(connection: WsConnectionContext, message: WsMessageContext): WsLogFields {
  const fields = identity(connection);
  fields[F.path] = connection.path;
  fields[F.event] = message.event;
  return addTraceFields(fields, message.span.spanContext(), message, connection);
}

/** A line about a handshake that has no connection yet (a refusal): its span's trace, the path and the transport. */
export function handshakeLine(spanContext: SpanContext | undefined, traceId: string, path: string, transport: WsTransportName): WsLogFields {
  const fields: WsLogFields = { [F.path]: path, [F.transport]: transport };
  return addTraceFields(fields, spanContext, undefined, { traceId });
}

/**
 * The fields for any line written in the current context (a pino mixin): the
 * connection and message of the CLS store, and the trace of `activeSpan`.
 */
export function contextLine(connection: WsConnectionContext | undefined, message: WsMessageContext | undefined, activeSpan: SpanContext | undefined): WsLogFields {
  const fields = connection ? identity(connection) : {};
  if (message) fields[F.event] = message.event;
  return addTraceFields(fields, activeSpan, message, connection);
}

/** The longest room name kept in a log line or on a span. */
export const MAX_ROOM_TEXT = 128;

/**
 * A `ws.broadcast` line: the event, the room (if one), the local recipients and
 * the trace of the broadcast's span (else `fallbackTraceId`, the publisher's).
 */
export function broadcastLine(event: string, room: string | undefined, recipients: number, spanContext: SpanContext, fallbackTraceId: string | undefined): WsLogFields {
  const fields: WsLogFields = { [F.event]: event, [F.room]: room?.slice(0, MAX_ROOM_TEXT), [F.recipients]: recipients };
  return addTraceFields(fields, spanContext, undefined, fallbackTraceId === undefined ? undefined : { traceId: fallbackTraceId });
}
