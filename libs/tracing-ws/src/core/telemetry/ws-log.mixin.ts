import { trace, type SpanContext } from '@opentelemetry/api';
import { ClsServiceManager } from 'nestjs-cls';
import type { WsConnectionContext, WsMessageContext } from '../model/ws-connection.context.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';

/** Log fields that identify a connection. */
export function connectionLogFields(connection: WsConnectionContext): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    [F.connectionId]: connection.connectionId,
    [F.connectionTraceId]: connection.traceId,
  };
  if (connection.user) fields[F.userId] = connection.user.id;
  return fields;
}

/** Adds `trace_id`, `span_id` and `trace_flags` of `spanContext` to `fields`. */
export function addTraceLogFields(fields: Record<string, unknown>, spanContext: SpanContext): Record<string, unknown> {
  fields[F.traceId] = spanContext.traceId;
  fields[F.spanId] = spanContext.spanId;
  fields[F.traceFlags] = `0${spanContext.traceFlags.toString(16)}`.slice(-2);
  return fields;
}

/**
 * A pino `mixin` that stamps every log line with the trace of the active span
 * (`trace_id`, `span_id`, `trace_flags`) and, inside a WebSocket connection or
 * message, with `connection_id`, `connection_trace_id`, `user_id` and `event`.
 * It runs only for lines whose level is enabled.
 *
 * @example
 * LoggerModule.forRoot({ pinoHttp: { mixin: wsLogMixin } })
 */
export function wsLogMixin(mergeObject?: object): Record<string, unknown> {
  // The library's own lines already carry every field: nothing to add. (A fresh
  // object: pino's default merge strategy writes the line's fields into it.)
  if (mergeObject !== undefined && (mergeObject as Record<string, unknown>)[F.connectionId] !== undefined) return {};
  const store = ClsServiceManager.getClsService().get() as Record<symbol, unknown> | undefined;
  const connection = store?.[WS_CONNECTION_CONTEXT] as WsConnectionContext | undefined;
  const message = store?.[WS_MESSAGE_CONTEXT] as WsMessageContext | undefined;
  const fields = connection ? connectionLogFields(connection) : {};
  if (message) fields[F.event] = message.event;
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext && trace.isSpanContextValid(spanContext)) addTraceLogFields(fields, spanContext);
  else if (message) fields[F.traceId] = message.traceId;
  else if (connection) fields[F.traceId] = connection.traceId;
  return fields;
}
