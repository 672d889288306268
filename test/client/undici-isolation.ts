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
  const create = channel('undici:request:create');
  const publish = create.publish;
  create.publish = () => undefined;
  return () => {
    create.publish = publish;
  };
}
