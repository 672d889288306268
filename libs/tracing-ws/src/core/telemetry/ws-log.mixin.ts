import { trace } from '@opentelemetry/api';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import { currentWsStore } from '../model/ws-cls.store.js';
import { contextLine } from './ws-log.fields.js';

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
  const store = currentWsStore();
  return contextLine(store?.[WS_CONNECTION_CONTEXT], store?.[WS_MESSAGE_CONTEXT], trace.getActiveSpan()?.spanContext());
}
