import { applyDecorators, UseFilters } from '@nestjs/common';
import { getConnectionState } from '../connection/ws-connection.state.js';
import { TracingWsExceptionFilter } from './tracing-ws-exception.filter.js';

type Hook = (this: unknown, socket: unknown, ...rest: unknown[]) => unknown;
/**
 * Wraps a connection hook so that a throw or a rejection is reported to the
 * connection's lifecycle (logged; `handleConnection` closes that socket with
 * 1011) instead of reaching rxjs or the process as an unhandled error.
 */
function guardHook(prototype: Record<string, unknown>, name: 'handleConnection' | 'handleDisconnect'): void {
  const original = prototype[name];
  if (typeof original !== 'function') {
    // Nest resolves a request-scoped gateway per connection when a hook runs; if the
    // instance cannot be built, it hands the error to the hook's exception filters,
    // but rethrows it (an unhandled rejection) when the gateway has no such hook.
    prototype[name] = function noHook(): void {};
    return;
  }
  // A socket of another adapter has no lifecycle to report to: its hook's error is dropped, not thrown.
  const report = (socket: unknown, err: unknown) => getConnectionState(socket)?.reportHookError(err, name);
  prototype[name] = function (this: unknown, socket: unknown, ...rest: unknown[]) {
    try {
      const result = (original as Hook).call(this, socket, ...rest);
      if (result instanceof Promise) return result.catch((err: unknown) => report(socket, err));
      return result;
    } catch (err) {
      report(socket, err);
      return undefined;
    }
  };
}

/**
 * Marks a gateway as traced: exceptions of its handlers, guards and pipes
 * become error frames with a code and the trace id (instead of Nest's generic
 * `exception` frame) and fail the message span; an exception in
 * `handleConnection` closes that socket with 1011 and one in `handleDisconnect`
 * is logged, never crashing the process. Spans, CLS context, logs and metrics
 * come from {@link TracingWsAdapter} for every gateway it serves.
 *
 * @example
 * @TracedGateway()
 * @WebSocketGateway({ path: '/chat' })
 * export class ChatGateway {}
 */
export function TracedGateway(): ClassDecorator {
  return applyDecorators(UseFilters(TracingWsExceptionFilter), (target: object) => {
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    guardHook(prototype, 'handleConnection');
    guardHook(prototype, 'handleDisconnect');
  });
}
