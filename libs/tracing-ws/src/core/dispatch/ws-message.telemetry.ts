import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import type { WsLogLevel, WsMessageSpanHook } from '../options/tracing-ws.options.js';
import { connectionLine, type WsLogFields } from '../telemetry/ws-log.fields.js';
import type { WsMappedError } from './ws-exception.mapper.js';

// What every path that handles a message writes the same way, whichever runs
// it: the span hook, the `ws.message_handled` and `ws.message_failed` lines.

/**
 * Writes `ws.message_failed` with `fields()` (built only when the line is
 * written): a server fault is an incident, at error with its stack; a client's
 * mistake (a `WsException`, a validation failure, a 4xx) is expected, one info
 * line with its message and no stack. The line of a failure carries its trace
 * id, sampled or not.
 */
export function logMessageFailed(logger: Logger, error: WsMappedError, exception: unknown, fields: () => WsLogFields): void {
  const level = error.internal ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const line = fields();
  line[F.errorCode] = error.code;
  if (error.internal) line[F.error] = exception;
  else line[F.errorMessage] = error.message;
  logger[level](line, WS_LOG_MESSAGES.messageFailed);
}

/** Writes `ws.message_handled` at `level` with `fields()`, its outcome and duration. */
export function logMessageHandled(logger: Logger, level: WsLogLevel, fields: () => WsLogFields, failed: boolean, seconds: number): void {
  if (!logger.isLevelEnabled(level)) return;
  const line = fields();
  line[F.outcome] = failed ? 'error' : 'ok';
  line[F.durationMs] = seconds * 1000;
  logger[level](line, WS_LOG_MESSAGES.messageHandled);
}

/** Runs the `onMessageSpan` hook on a recording span; a throw is logged (`ws.hook_failed`), never raised. */
export function runMessageSpanHook(hook: WsMessageSpanHook, logger: Logger, span: Span, event: string, data: unknown, connection: WsConnectionContext): void {
  try {
    hook(span, { event, data, connection });
  } catch (err) {
    if (logger.isLevelEnabled('warn')) {
      const fields = connectionLine(connection);
      fields[F.event] = event;
      fields[F.hook] = 'onMessageSpan';
      fields[F.error] = err;
      logger.warn(fields, WS_LOG_MESSAGES.hookFailed);
    }
  }
}

/** A decoded payload as text for the log's `payload` field (logPayloadMaxLength > 0 only). */
export function payloadTextOf(data: unknown): string | undefined {
  try {
    return JSON.stringify(data);
  } catch {
    return undefined;
  }
}
