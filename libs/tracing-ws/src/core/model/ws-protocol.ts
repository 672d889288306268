/** Error codes carried in error frames (see the README, "Frames"). */
export const WS_ERROR_CODES = {
  badRequest: 'BAD_REQUEST',
  unknownEvent: 'UNKNOWN_EVENT',
  validationFailed: 'VALIDATION_FAILED',
  unauthorized: 'UNAUTHORIZED',
  forbidden: 'FORBIDDEN',
  rateLimited: 'RATE_LIMITED',
  payloadTooLarge: 'PAYLOAD_TOO_LARGE',
  internal: 'INTERNAL',
} as const;

/** One of the error codes of {@link WS_ERROR_CODES}. */
export type WsErrorCode = (typeof WS_ERROR_CODES)[keyof typeof WS_ERROR_CODES];

/** Close codes (standard first, then 4xxx = HTTP status, as graphql-ws does). */
export const WS_CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  invalidPayload: 1007,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  heartbeatTimeout: 4408,
  rateLimited: 4429,
} as const;

/**
 * Close codes that get their own `code` label value (every other code counts as
 * `other`): those the server sends, and those a peer or the network produce.
 * The README's close code table lists exactly these.
 */
export const WS_CLOSE_CODE_LABELS: readonly number[] = Object.freeze([1000, 1001, 1002, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 4400, 4401, 4403, 4408, 4429]);

/**
 * What a gateway path gets appended for its handshake check endpoint:
 * `GET <gateway path>/.tracing-ws/check` runs the handshake's checks without
 * connecting, so that a browser, which cannot read a refused upgrade's status,
 * can learn it (README, "How a refusal reaches a browser"). A dot segment no
 * application route is likely to use, under the gateway's own path, so that it
 * reaches the same server through any proxy that routes the gateway.
 */
export const WS_HANDSHAKE_CHECK_SUFFIX = '/.tracing-ws/check';

/**
 * Who ended a connection: the `closed_by` log field of `ws.disconnected`.
 * - `client`: the peer closed (its close code is recorded);
 * - `network`: the connection dropped with no close from either side (1006);
 * - `server`: the application's side failed (e.g. `handleConnection` threw: 1011);
 * - `policy`: the library closed an abuser or a broken peer (rate limit 4429, invalid frames
 *   4400, slow consumer 1013, payload limit 1009, protocol errors 1002 / 1007);
 * - `heartbeat`: the peer stopped answering pings (terminated: 1006);
 * - `shutdown`: the server is going away (1001);
 * - `auth_expiry`: the credential expired (4401);
 * - `admin`: an operator disconnected it through the admin surface (`TracingWsAdminModule`).
 */
export type WsCloseInitiator = 'client' | 'network' | 'server' | 'policy' | 'heartbeat' | 'shutdown' | 'auth_expiry' | 'admin';

/**
 * True for a close code a server may send when an operator disconnects a client:
 * 1000, 1001, 1008, 1011, 1012, 1013 and the application range 4000–4999. The
 * others are reserved to a peer or the network (1005, 1006, 1015) or mean a
 * protocol fault the server did not see.
 */
export function isServerCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 4000 && code <= 4999) || [1000, 1001, 1008, 1011, 1012, 1013].includes(code));
}

/**
 * The reserved event of a client's report after an outage (how long it could not
 * connect, its failed attempts and their close codes, the last round-trip time):
 * the library handles it itself, before any gateway handler, and never counts it
 * as an unknown event. Mirrored in the client's `ws-protocol.ts`.
 */
export const WS_CLIENT_REPORT_EVENT = 'tracing-ws:report';

/** `meta` of a frame, in both directions. */
export interface WsFrameMeta {
  /** W3C traceparent of the client's span for this message. */
  traceparent?: string;
  /** Trace id of the server's handling, sent back so a client can show it. */
  traceId?: string;
  /** Client-chosen message id, echoed on the reply so a client can correlate it. */
  id?: string;
}

/** A JSON text frame: `{"event", "data", "meta"?}`. */
export interface WsFrame<T = unknown> {
  event: string;
  data?: T;
  meta?: WsFrameMeta;
}

/** The JSON text of a frame: how the ws transport (and a broadcast, serialising once for all recipients) writes it. Undefined fields are left out. */
export function jsonFrameText(event: string, data: unknown, meta: WsFrameMeta | undefined): string {
  return JSON.stringify({ event, data, meta });
}

/** The `data` of an error frame. */
export interface WsErrorData {
  code: WsErrorCode;
  message: string;
  traceId?: string;
  retryable: boolean;
  /** Field errors of a `VALIDATION_FAILED`. */
  details?: unknown;
}
