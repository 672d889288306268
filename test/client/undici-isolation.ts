import { channel } from 'node:diagnostics_channel';

/**
 * Makes Node's WebSocket (undici) send its upgrade as a browser does, with no header
 * but its own, while a suite runs; returns the function that undoes it.
 *
 * Why: Jest gives each test file its own globals, but diagnostics channels are
 * process-wide. A file that started the OpenTelemetry undici instrumentation earlier
 * in the same worker leaves it subscribed to `undici:request:create`, where it adds
 * a `traceparent` header (a new trace) to every request, this process's WebSocket
 * upgrades included; the server prefers that header to the client's query string,
 * so the connection's trace id would not be `client.traceId`. (That is also what an
 * application running the client next to that instrumentation gets.)
 */
export function withoutForeignUndiciSubscribers(): () => void {
  const create = channel('undici:request:create') as ReturnType<typeof channel> & { publish: (message: unknown) => void };
  // An own property shadows the prototype's publish. Undone by deleting it, never by
  // assigning the saved method back: Node swaps a channel's prototype between an
  // inactive and an active one as subscribers come and go, so a saved `publish` may be
  // the inactive no-op, and assigning it would silence every later subscriber.
  Object.defineProperty(create, 'publish', { value: () => undefined, configurable: true, writable: true });
  return () => {
    delete (create as { publish?: unknown }).publish;
  };
}
