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
  /** Room of a room broadcast when the room keeps a history (`broadcast.history`). */
  room?: string;
  /** Position of a room broadcast in its room's stream: 1, 2, 3… within one epoch. */
  offset?: number;
  /** Which stream the offset counts in; a new epoch means a restarted or recreated history. */
  epoch?: string;
  /** True on a broadcast replayed from the history (a recovery), absent on live ones. */
  recovered?: true;
  /** False on a room broadcast sent while the history was unreachable (Redis down): it has no offset and cannot be recovered. */
  recoverable?: false;
  /** Client to server, on a join: the last position the client saw in that room, to replay what it missed. */
  recover?: WsRoomPosition;
}

/** A position in a room's stream: the last offset seen, in which epoch (`''`: the room had no stream yet). */
export interface WsRoomPosition {
  room: string;
  epoch: string;
  offset: number;
}

/**
 * Frames the library itself exchanges about room histories (README, "Room history
 * and recovery"); the client library handles them, applications never do.
 * - `position` (server → client): the room's current position, after a join without
 *   `meta.recover`, and as a hint when the server knows a member may have missed
 *   something (Redis back up, a late broadcast dropped);
 * - `recovered` (server → client): the replay asked for is complete (data: position, `count`);
 * - `recoveryFailed` (server → client): it could not be replayed (data: `reason`, and the
 *   current position when known); the client starts again from there;
 * - `recover` (client → server): replay `room` after `offset` (a gap seen on the live stream).
 */
export const WS_ROOM_EVENTS = {
  position: 'tracing-ws:position',
  recovered: 'tracing-ws:recovered',
  recoveryFailed: 'tracing-ws:recovery_failed',
  recover: 'tracing-ws:recover',
} as const;

/**
 * Why a recovery failed (the `reason` of `tracing-ws:recovery_failed` and of the
 * `ws_history_recoveries_failed_total` metric): `gap` (what was missed is older than
 * the history keeps), `epoch` (the history was restarted or recreated since),
 * `unavailable` (Redis unreachable: nothing can be read).
 */
export type WsRecoveryFailure = 'gap' | 'epoch' | 'unavailable';
export const WS_RECOVERY_FAILURES: readonly WsRecoveryFailure[] = Object.freeze(['gap', 'epoch', 'unavailable']);

const MAX_ROOM_LENGTH = 256;
const MAX_EPOCH_LENGTH = 64;

/** A position the client sent (in `meta.recover` or a `recover` frame), validated; `undefined` when malformed. */
export function readRoomPosition(value: unknown): WsRoomPosition | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { room, epoch, offset } = value as Record<string, unknown>;
  if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH) return undefined;
  if (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_LENGTH) return undefined;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { room, epoch, offset };
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
