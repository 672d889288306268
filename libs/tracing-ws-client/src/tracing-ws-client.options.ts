import type { WsMessagesOption } from './ws-error.messages.js';

/** A token, or a function that returns a fresh one (called before every connection attempt). */
export type WsTokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

/** Reconnect settings: exponential backoff with full jitter. */
export interface WsReconnectOptions {
  /** Ceiling of the first retry's delay. @defaultValue 500 */
  baseMs?: number;
  /** Longest delay. @defaultValue 30000 */
  capMs?: number;
  /** Retries in a row before giving up (then `closed` with `gaveUp: true`). @defaultValue Infinity */
  maxAttempts?: number;
  /** Shortest delay after 1013 (overloaded) and 4429 (rate limit abuse). @defaultValue 5000 */
  slowDownMs?: number;
  /** A connection open this long resets the attempt count; a flapping one keeps backing off. @defaultValue 5000 */
  stableMs?: number;
}

/**
 * Dead connection detection. Browsers cannot see protocol pings, so the client
 * watches for server activity (any frame) instead.
 */
export interface WsHeartbeatOptions {
  /** Silence after which the client pings (with `pingEvent`) or starts the timeout. */
  intervalMs: number;
  /** How long after that it waits for any frame before declaring the connection dead (close 4408). @defaultValue 10000 */
  timeoutMs?: number;
  /** An event the server answers (e.g. an echo handler); without it silence alone counts. */
  pingEvent?: string;
  /** `data` of the ping frame. @defaultValue `{}` */
  pingData?: unknown;
}

/**
 * The handshake check: after an attempt that closed before opening (a browser
 * sees a refused upgrade as close 1006, like a network failure), the client asks
 * the server's check endpoint what the upgrade got, and stops on 401 / 403.
 */
export interface WsHandshakeCheckOptions {
  /** Longest wait for the check's answer; past it the client backs off as without one. @defaultValue 5000 */
  timeoutMs?: number;
}

/** Room bookkeeping: joined rooms are joined again after every reconnect. */
export interface WsRoomOptions {
  /** @defaultValue 'join' */
  joinEvent?: string;
  /** @defaultValue 'leave' */
  leaveEvent?: string;
  /** The `data` of a join or leave frame. @defaultValue `(room) => ({ room })` */
  payload?: (room: string) => unknown;
}

/** Options of {@link TracingWsClient}. */
export interface TracingWsClientOptions {
  /** `ws(s)://` URL; in a browser also `http(s)://` or a path such as `/chat`, resolved against the page. */
  url: string;
  /** The auth token (or a function returning it). @defaultValue none: connect anonymously */
  token?: WsTokenSource;
  /**
   * Where the token goes. `subprotocol`: `bearer.<token>` in `Sec-WebSocket-Protocol`,
   * kept out of URLs and access logs. `query`: `access_token=<token>` in the URL
   * (visible to proxies' logs; only for servers that cannot read subprotocols).
   * @defaultValue 'subprotocol'
   */
  tokenIn?: 'subprotocol' | 'query';
  /** Subprotocols offered with the bearer entry; the server must select one of them. @defaultValue ['json'] */
  protocols?: readonly string[];
  /** The connection's trace id (32 hex or a UUID), reused on reconnects. @defaultValue a new one per connection */
  traceId?: string;
  /** Query parameter that carries the connection's trace id. @defaultValue 'traceparent' */
  traceParam?: 'traceparent' | 'traceId';
  /**
   * Trace of each sent message. `message`: every message starts a trace of its own
   * (its id is what the user quotes). `connection`: every message is a new span in
   * the connection's trace, so one id covers the session.
   * @defaultValue 'message'
   */
  messageTrace?: 'message' | 'connection';
  /** The sampled flag of outgoing traceparents. @defaultValue true */
  sampled?: boolean;
  /** `false` to never reconnect. @defaultValue `{}` (defaults of {@link WsReconnectOptions}) */
  reconnect?: WsReconnectOptions | false;
  /** @defaultValue false: silence is normal for many apps */
  heartbeat?: WsHeartbeatOptions | false;
  /** Default timeout of `request()`. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** `false` to never ask the server why an attempt failed. @defaultValue `{}` (defaults of {@link WsHandshakeCheckOptions}) */
  handshakeCheck?: WsHandshakeCheckOptions | false;
  /**
   * After connecting again following failures, send the server one report of what the
   * client saw while it could not connect (`tracing-ws:report`: time offline, failed
   * attempts and their close codes, last round-trip time, last error code), which the
   * server logs with the session's trace id. `false` sends none.
   * @defaultValue true
   */
  reportOutages?: boolean;
  /**
   * Called on close 4401 (authentication expired or revoked): return a new token to
   * reconnect with it, or nothing to stop. Without it the client stops.
   */
  reauthenticate?: (close: { code: number; reason: string }) => string | null | undefined | Promise<string | null | undefined>;
  rooms?: WsRoomOptions;
  /** Overrides of the user-facing texts, or a translate function (i18n). */
  messages?: WsMessagesOption;
  /** Random source in [0, 1) for backoff jitter. @defaultValue Math.random */
  random?: () => number;
  /** WebSocket implementation. @defaultValue globalThis.WebSocket (browsers, Node >= 22) */
  WebSocket?: typeof WebSocket;
  /** fetch implementation, for the handshake check. @defaultValue globalThis.fetch (without one there is no check) */
  fetch?: typeof fetch;
}

/** Options with every default applied. Internal. */
export interface ResolvedClientOptions {
  readonly url: string;
  readonly tokenIn: 'subprotocol' | 'query';
  readonly protocols: readonly string[];
  readonly traceId: string | undefined;
  readonly traceParam: 'traceparent' | 'traceId';
  readonly messageTrace: 'message' | 'connection';
  readonly sampled: boolean;
  readonly reconnect: Required<WsReconnectOptions> | false;
  readonly heartbeat: (Required<Omit<WsHeartbeatOptions, 'pingEvent'>> & { pingEvent: string | undefined }) | false;
  readonly requestTimeoutMs: number;
  /** The check's settings and fetch, or false when there is no check. */
  readonly handshakeCheck: { readonly timeoutMs: number; readonly fetch: typeof fetch } | false;
  readonly rooms: Required<WsRoomOptions>;
  readonly reportOutages: boolean;
  readonly random: () => number;
  readonly WebSocket: typeof WebSocket;
}

/** Defaults of {@link TracingWsClientOptions}. */
export const WS_CLIENT_DEFAULTS = Object.freeze({
  tokenIn: 'subprotocol',
  protocols: Object.freeze(['json']),
  traceParam: 'traceparent',
  messageTrace: 'message',
  sampled: true,
  reconnect: Object.freeze({ baseMs: 500, capMs: 30000, maxAttempts: Infinity, slowDownMs: 5000, stableMs: 5000 }),
  heartbeatTimeoutMs: 10000,
  requestTimeoutMs: 10000,
  handshakeCheckTimeoutMs: 5000,
} as const);

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(typeof v === 'number' && v >= 0 && !Number.isNaN(v))) throw new Error(`TracingWsClient: ${name} must be a number >= 0, got ${String(value)}`);
  return v;
}

/** Applies defaults and validates once; a bad option throws an `Error` naming it. */
export function resolveClientOptions(options: TracingWsClientOptions): ResolvedClientOptions {
  if (typeof options?.url !== 'string' || options.url === '') throw new Error('TracingWsClient: url is required, e.g. "wss://example.com/chat" or "/chat" in a browser');
  const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (typeof WebSocketImpl !== 'function') throw new Error('TracingWsClient: no global WebSocket (Node < 22?); pass the WebSocket option');
  const r = options.reconnect;
  const d = WS_CLIENT_DEFAULTS.reconnect;
  const reconnect =
    r === false
      ? false
      : {
          baseMs: positive('reconnect.baseMs', r?.baseMs, d.baseMs),
          capMs: positive('reconnect.capMs', r?.capMs, d.capMs),
          maxAttempts: positive('reconnect.maxAttempts', r?.maxAttempts, d.maxAttempts),
          slowDownMs: positive('reconnect.slowDownMs', r?.slowDownMs, d.slowDownMs),
          stableMs: positive('reconnect.stableMs', r?.stableMs, d.stableMs),
        };
  const h = options.heartbeat;
  const heartbeat = h
    ? {
        intervalMs: positive('heartbeat.intervalMs', h.intervalMs, NaN),
        timeoutMs: positive('heartbeat.timeoutMs', h.timeoutMs, WS_CLIENT_DEFAULTS.heartbeatTimeoutMs),
        pingEvent: h.pingEvent,
        pingData: h.pingData ?? {},
      }
    : false;
  const fetchImpl = options.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
  const check = options.handshakeCheck;
  const handshakeCheck =
    check === false || typeof fetchImpl !== 'function'
      ? false
      : { timeoutMs: positive('handshakeCheck.timeoutMs', check?.timeoutMs, WS_CLIENT_DEFAULTS.handshakeCheckTimeoutMs), fetch: fetchImpl };
  return {
    url: options.url,
    tokenIn: options.tokenIn ?? WS_CLIENT_DEFAULTS.tokenIn,
    protocols: options.protocols ?? WS_CLIENT_DEFAULTS.protocols,
    traceId: options.traceId,
    traceParam: options.traceParam ?? WS_CLIENT_DEFAULTS.traceParam,
    messageTrace: options.messageTrace ?? WS_CLIENT_DEFAULTS.messageTrace,
    sampled: options.sampled ?? WS_CLIENT_DEFAULTS.sampled,
    reconnect,
    heartbeat,
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, WS_CLIENT_DEFAULTS.requestTimeoutMs),
    handshakeCheck,
    rooms: {
      joinEvent: options.rooms?.joinEvent ?? 'join',
      leaveEvent: options.rooms?.leaveEvent ?? 'leave',
      payload: options.rooms?.payload ?? ((room: string) => ({ room })),
    },
    reportOutages: options.reportOutages ?? true,
    random: options.random ?? Math.random,
    WebSocket: WebSocketImpl,
  };
}
