import type { DynamicModule, Type } from '@nestjs/common';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { TracingWsModuleOptions, WsErrorData, WsFrame } from '@tracing-ws/nestjs';

/**
 * What the conformance specs need from a transport (ws today, socket.io next).
 * A harness starts a real listening app, connects real clients of its
 * transport, and reports what they see in one shape, so that the specs in
 * this folder assert the library's behaviour without knowing the transport.
 *
 * Adding a transport: write `harness.<name>.ts` implementing this interface
 * and append it to `TRANSPORTS` in `transports.ts`. The specs stay unchanged.
 */
export interface TransportHarness {
  /** Shown in test titles: `... over ws`. */
  readonly name: string;
  /** The `messaging.system` attribute this transport's message spans carry. */
  readonly messagingSystem: string;
  /** Starts a real app on 127.0.0.1, port 0: TracingWsModule.forRoot(options), the gateways, this transport's adapter. */
  start(setup: HarnessSetup): Promise<HarnessApp>;
}

/** Every conformance gateway is declared with `@WebSocketGateway({ path: CONFORMANCE_PATH })`. */
export const CONFORMANCE_PATH = '/conformance';

export interface HarnessSetup {
  /** Gateways declared with `@WebSocketGateway({ path: CONFORMANCE_PATH })`. */
  gateways: Type[];
  /** Other providers (services the gateways inject). */
  providers?: Type[];
  /** HTTP controllers of the app (e.g. an endpoint that pushes to sockets). */
  controllers?: Type[];
  /** Options of TracingWsModule.forRoot. */
  options?: TracingWsModuleOptions;
  /** Other modules of the app (e.g. `TracingWsAdminModule.forRoot()`). */
  imports?: Array<Type | DynamicModule>;
}

/** A running app. */
export interface HarnessApp {
  /** Opens a connection to the conformance gateway; resolves with the accepted connection or the refusal. */
  connect(options?: HarnessConnectOptions): Promise<HarnessConnection>;
  /**
   * Starts a handshake and leaves it to the server (its check may still be running), for a
   * client that leaves halfway: `reset()` drops its TCP connection with a reset (RST).
   */
  startHandshake(options?: HarnessConnectOptions): HarnessPendingHandshake;
  /** `http://127.0.0.1:<port>`: the app's HTTP server (controllers, `/metrics`). */
  readonly httpUrl: string;
  /** A provider of the app (e.g. a service the test coordinates with). */
  get<T>(token: Type<T>): T;
  /** Labels that identify the conformance gateway on every `ws_*` series (ws: `{ path }`). */
  readonly gatewayLabels: Readonly<Record<string, string>>;
  /**
   * The app's `/metrics` text, served by `TracingWsMetricsController`: the Prometheus text
   * format, or OpenMetrics when `accept` asks for it (`OPENMETRICS_ACCEPT`).
   */
  metrics(accept?: string): Promise<string>;
  /** Pino lines written since this app started. */
  readonly logs: HarnessLogs;
  /** Finished spans of the in-memory exporter (one OpenTelemetry SDK per test file). */
  spans(): readonly ReadableSpan[];
  waitForSpan(predicate: (span: ReadableSpan) => boolean, timeoutMs?: number): Promise<ReadableSpan>;
  /** Graceful shutdown (Nest's `app.close()`); resolves when the app has closed. Idempotent. */
  close(): Promise<void>;
}

export interface HarnessConnectOptions {
  /** A bearer credential, sent the transport's usual way (ws: `Authorization: Bearer <token>`). */
  token?: string;
  /** Handshake headers, e.g. `traceparent`. */
  headers?: Record<string, string>;
  /** Query parameters of the handshake. */
  query?: Record<string, string>;
}

export type HarnessConnection = AcceptedConnection | RefusedConnection;

/** A handshake under way, see {@link HarnessApp.startHandshake}. */
export interface HarnessPendingHandshake {
  /** Drops the TCP connection with a reset, whatever the handshake has reached. */
  reset(): void;
}

export interface AcceptedConnection {
  readonly accepted: true;
  readonly client: HarnessClient;
}

/** A refused handshake (ws: an HTTP answer other than 101; socket.io: `connect_error`). */
export interface RefusedConnection {
  readonly accepted: false;
  /** The HTTP status of the refusal (ws: the upgrade answer's status). */
  readonly status: number;
  /** The trace id the client was given for the refusal (ws: `X-Trace-ID`), if any. */
  readonly traceId: string | undefined;
  /** Everything the client received about the refusal, as text: for asserting what must not leak. */
  readonly received: string;
}

/** A frame as the client received it, whatever the transport's encoding. */
export type HarnessFrame = WsFrame<unknown>;

/** Fields a client may send in a frame's `meta`. */
export type HarnessSendMeta = Pick<NonNullable<WsFrame['meta']>, 'id' | 'traceparent'>;

/** How a connection ended, from the client's side. */
export interface HarnessClose {
  /** A WebSocket close code (`WS_CLOSE_CODES`); a transport without close codes maps the server's reason to one. */
  code: number;
  reason: string;
}

/** A connected client of the transport. */
export interface HarnessClient {
  /** Trace id of the connection's handshake, as the client learns it (ws: `X-Trace-ID` of the 101). */
  readonly traceId: string;
  /** Sends event `event` with `data` (and `meta`). */
  send(event: string, data?: unknown, meta?: HarnessSendMeta): void;
  /** Waits for the first frame of `event` not yet taken, and takes it. Fails after `timeoutMs` (5000). */
  next(event: string, timeoutMs?: number): Promise<HarnessFrame>;
  /** Sends, then waits for the next frame of `reply` (default: `event`) or an error frame. */
  request(event: string, data?: unknown, options?: { reply?: string; meta?: HarnessSendMeta; timeoutMs?: number }): Promise<HarnessFrame>;
  /** Waits for the connection to close. Fails after `timeoutMs` (5000). */
  closed(timeoutMs?: number): Promise<HarnessClose>;
  /** Closes from the client side (normal closure) and waits for it. */
  close(): Promise<void>;
}

export interface HarnessLogs {
  readonly lines: ReadonlyArray<Record<string, unknown>>;
  /** The same lines, unparsed: for asserting that a secret appears nowhere. */
  readonly raw: readonly string[];
  /** Lines matching every field of `match`. */
  find(match: Record<string, unknown>): Array<Record<string, unknown>>;
  /** Waits for a line matching every field of `match`. Fails after `timeoutMs` (5000). */
  waitFor(match: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** The `data` of an error frame; fails when `frame` is not one. */
export function errorData(frame: HarnessFrame): WsErrorData {
  if (frame.event !== 'error') throw new Error(`expected an error frame, got ${JSON.stringify(frame)}`);
  return frame.data as WsErrorData;
}

/** The connection of an accepted handshake; fails with the refusal otherwise. */
export function accepted(connection: HarnessConnection): HarnessClient {
  if (!connection.accepted) throw new Error(`expected the handshake to be accepted, got ${connection.status}: ${connection.received}`);
  return connection.client;
}

/** The refusal of a refused handshake; fails (closing the client) otherwise. */
export async function refused(connection: HarnessConnection): Promise<RefusedConnection> {
  if (connection.accepted) {
    await connection.client.close();
    throw new Error('expected the handshake to be refused, but it was accepted');
  }
  return connection;
}
