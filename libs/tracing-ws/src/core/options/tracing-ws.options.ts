import type { Span } from '@opentelemetry/api';
import type { WsConnectionContext, WsUser } from '../model/ws-connection.context.js';
import type { WsHandshakeRequest } from '../model/ws-handshake.request.js';

/** Where the credential of a handshake was found. */
export type WsCredentialSource = 'header' | 'auth' | 'query' | 'subprotocol';

/** What the `authenticate` hook is given. */
export interface WsAuthRequest {
  /** The bearer token, from `Authorization: Bearer`, `?access_token=` or a `bearer.<token>` subprotocol. */
  readonly token: string;
  /** Where the token was found. */
  readonly source: WsCredentialSource;
  /** The connection request (headers, URL, peer address; the transport's own request as `raw`). */
  readonly request: WsHandshakeRequest;
}

/**
 * Decides who a handshake belongs to. Return the user, or `null`/`undefined` to
 * refuse the credential (HTTP 401). A throw refuses with HTTP 500 and is logged
 * without its text reaching the client.
 */
export type WsAuthenticateHook = (request: WsAuthRequest) => WsUser | null | undefined | Promise<WsUser | null | undefined>;

/** How message spans relate to the connection's handshake span. */
export type WsTraceMode = 'message' | 'connection';

/** A pino level name. */
export type WsLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** What {@link TracingWsModuleOptions.onMessageSpan} is given. */
export interface WsMessageSpanInfo {
  readonly event: string;
  readonly data: unknown;
  readonly connection: WsConnectionContext;
}

/**
 * Extends a message span (rename it with `span.updateName`, add attributes).
 * Called only for recording spans. A throw is logged and never breaks handling.
 */
export type WsMessageSpanHook = (span: Span, message: WsMessageSpanInfo) => void;

/** Decides whether a user may ask for their session to be force-sampled. */
export type WsForceSampleHook = (user: WsUser | undefined, request: WsHandshakeRequest) => boolean | Promise<boolean>;

/** Prometheus metric settings. */
export interface TracingWsMetricsOptions {
  /**
   * Prefix of every metric name.
   * @defaultValue `'ws_'`
   */
  prefix?: string;
  /**
   * Buckets (seconds) of the handshake and message duration histograms.
   * @defaultValue `[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]`
   */
  durationBuckets?: number[];
  /**
   * Buckets (bytes) of the message size histogram.
   * @defaultValue `[64, 256, 1024, 4096, 16384, 65536, 262144, 1048576]`
   */
  sizeBuckets?: number[];
  /**
   * Buckets (seconds) of the connection duration histogram.
   * @defaultValue `[1, 10, 60, 300, 900, 3600, 14400, 86400]`
   */
  connectionDurationBuckets?: number[];
  /**
   * Attach the trace and span ids of a sampled message span, as an OpenMetrics exemplar,
   * to the `ws_message_duration_seconds` bucket its duration falls in (at most one per
   * bucket and series per second; unsampled messages never). Exemplars are only ever
   * rendered in the OpenMetrics format: serve `/metrics` with `TracingWsMetricsController`
   * (README, "Exemplars"); the Prometheus text format is the same with or without them.
   * @defaultValue `true`
   */
  exemplars?: boolean;
}

/** Redis pub/sub settings of {@link TracingWsBroadcastOptions.redis}. */
export interface TracingWsRedisOptions {
  /** Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). */
  url: string;
  /**
   * Prefix of the pub/sub channel and of the presence keys; instances that
   * should reach each other use the same prefix.
   * @defaultValue `'tracing-ws:'`
   */
  keyPrefix?: string;
  /**
   * How long presence entries (connections, room memberships) outlive their
   * instance's last refresh; refreshed every third of it. A crashed instance's
   * entries disappear after at most this long.
   * @defaultValue `30000`
   */
  presenceTtlMs?: number;
  /**
   * A broadcast from another instance older than this (by its publish time) is
   * dropped, not delivered, and counted as `stale`: after a stalled Redis resumes,
   * what was written before the stall still executes, and a frame seconds late is
   * usually worse than none. 0: deliver whatever the age.
   * @defaultValue `5000`
   */
  staleAfterMs?: number;
  /**
   * Publishes waiting for Redis's answer at most; past it a broadcast is not
   * published and is counted as `backlog`, so a stalled Redis cannot grow memory.
   * @defaultValue `1000`
   */
  maxInFlightPublishes?: number;
}

/**
 * Room history of {@link TracingWsBroadcastOptions.history}: what is kept of each room's
 * broadcasts so that a client that lost its connection (or a frame) gets what it missed.
 * In process memory without `broadcast.redis`; in one Redis Stream per room with it.
 */
export interface TracingWsHistoryOptions {
  /**
   * Broadcasts kept per room, newest last (Redis: `XADD … MAXLEN ~ size`, so a few more
   * may be kept). A client that missed more than this gets `recovery_failed` (`gap`).
   * @defaultValue `100`
   */
  size?: number;
  /**
   * How long a broadcast stays recoverable. A client away longer than this gets
   * `recovery_failed` (`gap`) if something was published meanwhile. A room's position
   * (epoch, last offset) is kept longer (in memory: until `maxBytes` evicts it; in Redis: 24 h
   * or `ttlMs`, whichever is longer), so a client that missed nothing recovers whatever the wait.
   * @defaultValue `300000` (5 minutes)
   */
  ttlMs?: number;
  /**
   * In-memory history only: bytes of frames (and room records) kept across all rooms;
   * past it the least recently written rooms lose their oldest entries, then their records.
   * The Redis history is bounded by `size` and `ttlMs` instead.
   * @defaultValue `67108864` (64 MiB)
   */
  maxBytes?: number;
}

/** Where broadcasts go beyond this process. */
export interface TracingWsBroadcastOptions {
  /**
   * Id of this instance in envelopes, presence entries, `instance_id` log
   * fields and `ws.broadcast.instance_id` span attributes. Must differ per process.
   * @defaultValue `'<hostname>-<pid>-<6 random hex>'`
   */
  instanceId?: string;
  /**
   * Relay broadcasts and presence through Redis pub/sub (ioredis), so a room
   * spans every instance. Without it, broadcasts reach this process's sockets only.
   * @defaultValue `undefined` (in-memory, one process)
   */
  redis?: TracingWsRedisOptions;
  /**
   * Keep a history per room and number room broadcasts (`meta.offset`, `meta.epoch`), so
   * that a client re-joining after a reconnect, or seeing a gap in offsets, is sent what it
   * missed, in order, once (README, "Room history and recovery"). Off unless given: it costs
   * memory (or Redis writes) and, with Redis, a Redis round trip before local delivery.
   * @defaultValue `undefined` (no history; `{}` turns it on with the defaults)
   */
  history?: TracingWsHistoryOptions;
}

/** Server pings; a peer that has not answered by the next ping is terminated. */
export interface TracingWsHeartbeatOptions {
  /**
   * Time between pings; 0 turns the heartbeat off. A dead peer is gone within two intervals.
   * @defaultValue `30000`
   */
  intervalMs?: number;
}

/** Closing clients that keep sending malformed frames or unknown events. */
export interface TracingWsInvalidFrameOptions {
  /**
   * Invalid or unknown frames tolerated per window; one more closes with 4400. 0 never closes.
   * @defaultValue `20`
   */
  max?: number;
  /**
   * Length of the window.
   * @defaultValue `10000`
   */
  windowMs?: number;
}

/** Per-connection token bucket. */
export interface TracingWsRateLimitOptions {
  /**
   * Sustained frames per second; 0 turns rate limiting off.
   * @defaultValue `1000`
   */
  messagesPerSecond?: number;
  /**
   * Bucket size: frames allowed in a burst.
   * @defaultValue `2000`
   */
  burst?: number;
  /**
   * Share one bucket between all connections of a user on this instance.
   * @defaultValue `false`
   */
  perUser?: boolean;
  /**
   * Refused frames in a row after which the connection is closed with 4429.
   * @defaultValue `100`
   */
  closeAfterRefused?: number;
}

/** Slow readers: sockets whose send buffer does not drain. */
export interface TracingWsBackpressureOptions {
  /**
   * Buffered bytes above which broadcasts to a socket are dropped (and counted).
   * @defaultValue `1048576`
   */
  maxBufferedBytes?: number;
  /**
   * Time above the threshold after which the socket is closed with 1013.
   * @defaultValue `30000`
   */
  closeAfterMs?: number;
}

/**
 * The handshake check endpoint, `GET <gateway path>/.tracing-ws/check`: after an
 * attempt that closed before opening, a client asks it, with the same credential
 * and trace context, what the upgrade got (README, "How a refusal reaches a browser").
 */
export interface TracingWsHandshakeCheckOptions {
  /**
   * Serve the endpoint for every gateway on the app's HTTP server.
   * @defaultValue `true`
   */
  enabled?: boolean;
  /**
   * Checks allowed per client address (see `trustProxy`) per minute, and as many
   * in a burst; more are answered 429 with `Retry-After`, before `authenticate`
   * runs. 0: no limit.
   * @defaultValue `20`
   */
  perAddressPerMinute?: number;
}

/** A limit on failed handshakes per client address (bad credentials, disallowed origin, bad requests). */
export interface TracingWsHandshakeFailureOptions {
  /**
   * Failed handshakes allowed per client address (see `trustProxy`) per minute, and
   * as many in a burst. Past it, every handshake from the address is answered 429
   * with `Retry-After` until the budget refills, before `authenticate` runs; those
   * refusals are counted (`reason="handshake_limit"`) and one in 100 is logged.
   * 0: no limit.
   * @defaultValue `30`
   */
  perAddressPerMinute?: number;
}

/** Graceful shutdown on `app.close()`. */
export interface TracingWsShutdownOptions {
  /**
   * Longest wait for in-flight handlers and close handshakes before stragglers are terminated.
   * @defaultValue `10000`
   */
  timeoutMs?: number;
  /**
   * Also bound the HTTP server's close: idle keep-alive connections are closed when the
   * shutdown starts, and every connection still open (a half-sent request, a half-open
   * upgrade) once `timeoutMs` has passed, so the process exits within the deadline.
   * @defaultValue `true`
   */
  closeHttpConnections?: boolean;
}

/** Options of {@link TracingWsModule}. */
export interface TracingWsModuleOptions {
  /**
   * Origins allowed to open a connection (exact `Origin` values or patterns).
   * Empty: every origin is allowed. A refused origin gets HTTP 403.
   * @defaultValue `[]`
   */
  allowedOrigins?: Array<string | RegExp>;
  /**
   * With `allowedOrigins` set, let in requests that carry no `Origin` header.
   * Browsers always send one, and the allow-list exists to stop other sites'
   * pages from opening connections in a user's browser; native apps, servers
   * and command-line clients send none. `false` refuses them with HTTP 403.
   * @defaultValue `true`
   */
  allowMissingOrigin?: boolean;
  /**
   * Refuse a handshake that carries no credential with HTTP 401. A credential
   * that is presented and refused gets 401 whatever this says.
   * @defaultValue `false`
   */
  requireAuth?: boolean;
  /**
   * Turns a bearer token into a user (may be async). Inject services through
   * `forRootAsync`. Without it, a presented credential is refused.
   * @defaultValue `undefined`
   */
  authenticate?: WsAuthenticateHook;
  /**
   * `message`: each message is its own trace (continuing a frame's
   * `meta.traceparent`, else a new trace linked to the handshake);
   * `connection`: every message span is a child of the handshake span.
   * @defaultValue `'message'`
   */
  traceMode?: WsTraceMode;
  /**
   * Add `meta.traceId` to replies and error frames, so a client can show it.
   * @defaultValue `true`
   */
  propagateToClient?: boolean;
  /**
   * Level of the per-message log line (`ws.message_handled`). Lifecycle lines
   * are at info, failures at warn/error.
   * @defaultValue `'debug'`
   */
  messageLogLevel?: WsLogLevel;
  /**
   * Trust the first `X-Forwarded-For` hop as the client address (behind a proxy).
   * @defaultValue `false`
   */
  trustProxy?: boolean;
  /**
   * Largest accepted frame; a larger one closes the socket with 1009.
   * @defaultValue `1048576` (1 MiB)
   */
  maxPayloadBytes?: number;
  /** Prometheus metric settings. */
  metrics?: TracingWsMetricsOptions;
  /**
   * Record `http_request_duration_seconds{method,route,status}` for the app's
   * HTTP routes (route template, never the raw URL).
   * @defaultValue `true`
   */
  httpMetrics?: boolean;
  /**
   * Log the frame text on `ws.message_handled` / `ws.message_failed`, truncated
   * to this many characters. 0 logs no payload (payloads may hold personal data).
   * @defaultValue `0`
   */
  logPayloadMaxLength?: number;
  /** Extends each message span; see {@link WsMessageSpanHook}. */
  onMessageSpan?: WsMessageSpanHook;
  /**
   * Honours a handshake's `X-Force-Sample: 1` header or `forceSample=1` query
   * parameter for the users it allows: every message span of that connection
   * then carries `ws.force_sample=true`, which {@link WsForceSampler} samples
   * whatever the ratio. Without this hook the flag is ignored.
   * @defaultValue `undefined`
   */
  allowForceSampling?: WsForceSampleHook;
  /** Scale-out: cross-instance broadcasts and presence; see {@link TracingWsBroadcastOptions}. */
  broadcast?: TracingWsBroadcastOptions;
  /** Server pings. */
  heartbeat?: TracingWsHeartbeatOptions;
  /** Threshold of invalid frames before a 4400 close. */
  invalidFrames?: TracingWsInvalidFrameOptions;
  /** Per-connection (or per-user) rate limit. */
  rateLimit?: TracingWsRateLimitOptions;
  /**
   * Open connections allowed on this instance; more are refused with HTTP 503. 0: unlimited.
   * @defaultValue `0`
   */
  maxConnections?: number;
  /**
   * Open connections allowed per client address (see `trustProxy`); more are refused with HTTP 429. 0: unlimited.
   * @defaultValue `0`
   */
  maxConnectionsPerIp?: number;
  /** Slow-reader protection. */
  backpressure?: TracingWsBackpressureOptions;
  /** The handshake check endpoint that tells a browser why its upgrade was refused. */
  handshakeCheck?: TracingWsHandshakeCheckOptions;
  /** Failed handshakes allowed per client address. */
  handshakeFailures?: TracingWsHandshakeFailureOptions;
  /** Graceful shutdown. */
  shutdown?: TracingWsShutdownOptions;
  /**
   * Log unhandled promise rejections raised inside a connection (a handler's
   * floating promise) with the connection's ids instead of crashing the process.
   * Rejections outside any connection keep Node's default behaviour.
   * @defaultValue `true`
   */
  logUnhandledRejections?: boolean;
}

/** Options after defaults are merged and validation has passed. */
export interface ResolvedTracingWsOptions {
  readonly allowedOrigins: ReadonlyArray<string | RegExp>;
  readonly allowMissingOrigin: boolean;
  readonly requireAuth: boolean;
  readonly authenticate: WsAuthenticateHook | undefined;
  readonly traceMode: WsTraceMode;
  readonly propagateToClient: boolean;
  readonly messageLogLevel: WsLogLevel;
  readonly trustProxy: boolean;
  readonly maxPayloadBytes: number;
  readonly metrics: Readonly<Required<TracingWsMetricsOptions>>;
  readonly httpMetrics: boolean;
  readonly logPayloadMaxLength: number;
  readonly onMessageSpan: WsMessageSpanHook | undefined;
  readonly allowForceSampling: WsForceSampleHook | undefined;
  readonly broadcast: {
    /** Generated when options are resolved, unless given. */
    readonly instanceId: string;
    readonly redis: Readonly<Required<TracingWsRedisOptions>> | undefined;
    readonly history: Readonly<Required<TracingWsHistoryOptions>> | undefined;
  };
  readonly heartbeat: Readonly<Required<TracingWsHeartbeatOptions>>;
  readonly invalidFrames: Readonly<Required<TracingWsInvalidFrameOptions>>;
  readonly rateLimit: Readonly<Required<TracingWsRateLimitOptions>>;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly backpressure: Readonly<Required<TracingWsBackpressureOptions>>;
  readonly handshakeCheck: Readonly<Required<TracingWsHandshakeCheckOptions>>;
  readonly handshakeFailures: Readonly<Required<TracingWsHandshakeFailureOptions>>;
  readonly shutdown: Readonly<Required<TracingWsShutdownOptions>>;
  readonly logUnhandledRejections: boolean;
}
