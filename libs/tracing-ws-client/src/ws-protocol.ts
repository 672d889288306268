/**
 * The wire format of TracingWsModule gateways (the server README, "Frames" and "Close codes"),
 * repeated here so that the client stays dependency-free.
 */

/** `meta` of a frame, in both directions. */
export interface WsFrameMeta {
  /** W3C traceparent of the client's span for this message. */
  traceparent?: string;
  /** Trace id of the server's handling, sent back so the user can quote it. */
  traceId?: string;
  /** Client-chosen message id, echoed on the reply. */
  id?: string;
  /** Room of a room broadcast when the server keeps a history of it. */
  room?: string;
  /** Position of a room broadcast in its room's stream (1, 2, 3… within an epoch). */
  offset?: number;
  /** Which stream `offset` counts in; a new epoch is a restarted or recreated history. */
  epoch?: string;
  /** True on a broadcast the server replayed because this client had missed it. */
  recovered?: true;
  /** False on a room broadcast the server could not number (its Redis was down): it cannot be recovered. */
  recoverable?: false;
  /** Client to server, on a re-join: the last position seen in that room. */
  recover?: WsRoomPosition;
}

/** A position in a room's stream (`epoch` `''`: the room had no stream yet). */
export interface WsRoomPosition {
  room: string;
  epoch: string;
  offset: number;
}

/**
 * The server's room history frames (its README, "Room history and recovery"): `position`,
 * `recovered`, `recovery_failed` from the server, `recover` (ask for a gap) from the client.
 */
export const WS_ROOM_EVENTS = {
  position: 'tracing-ws:position',
  recovered: 'tracing-ws:recovered',
  recoveryFailed: 'tracing-ws:recovery_failed',
  recover: 'tracing-ws:recover',
} as const;

/**
 * Why a recovery failed: `gap` (missed more than the server keeps), `epoch` (its history
 * restarted), `unavailable` (its Redis was unreachable: broadcasts were not numbered or
 * could not be read).
 */
export type WsRecoveryFailure = 'gap' | 'epoch' | 'unavailable';

/** A JSON text frame: `{"event", "data", "meta"?}`. */
export interface WsFrame<T = unknown> {
  event: string;
  data?: T;
  meta?: WsFrameMeta;
}

/** Error codes a server puts in error frames. */
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

/** Error codes the client raises itself (never sent by a server). */
export const WS_CLIENT_ERROR_CODES = {
  /** `request()` got no reply within `timeoutMs`. */
  timeout: 'TIMEOUT',
  /** `send()` or `request()` while the socket is not open. */
  notConnected: 'NOT_CONNECTED',
  /** The connection dropped while a request was waiting for its reply. */
  disconnected: 'DISCONNECTED',
  /** `connect()` when the server refused the handshake (401, 403): retrying cannot help. */
  refused: 'REFUSED',
} as const;

/** A server error code of {@link WS_ERROR_CODES} or a client one of {@link WS_CLIENT_ERROR_CODES}. */
export type WsErrorCode = (typeof WS_ERROR_CODES)[keyof typeof WS_ERROR_CODES] | (typeof WS_CLIENT_ERROR_CODES)[keyof typeof WS_CLIENT_ERROR_CODES];

/** The `data` of an error frame. */
export interface WsErrorData {
  code: string;
  message: string;
  traceId?: string;
  retryable: boolean;
  /** Field errors of a `VALIDATION_FAILED`. */
  details?: unknown;
}

/** Close codes of the server (its README, "Close codes"): standard first, then 4xxx = HTTP status (the graphql-ws convention). */
export const WS_CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  abnormal: 1006,
  messageTooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
  unauthorized: 4401,
  forbidden: 4403,
  heartbeatTimeout: 4408,
  rateLimited: 4429,
} as const;

/**
 * The reserved event of the report a client sends after it connects again following
 * failures (the server's `WS_CLIENT_REPORT_EVENT`): the server handles it itself.
 */
export const WS_CLIENT_REPORT_EVENT = 'tracing-ws:report';

/** What the client saw while it could not connect: the `data` of a `tracing-ws:report` frame. */
export interface WsOutageReport {
  /** From the first failure to the connection that sends this report (ms). */
  offlineMs: number;
  /** Attempts that failed (closed before opening) in that time. */
  attempts: number;
  /** Close codes of the closes in that time, oldest first (the last 20 at most). */
  closeCodes: number[];
  /** Round-trip time of the last request answered before the outage (ms). */
  lastRttMs?: number;
  /** The code of the last error the client raised before reconnecting (`CLOSE_1006`, `REFUSED`...). */
  lastErrorCode?: string;
}

/**
 * The server's handshake check endpoint, appended to a gateway's path
 * (`GET /chat/.tracing-ws/check`): it answers what an upgrade got, which a
 * browser cannot read from a refused upgrade (it only sees close 1006).
 */
export const WS_HANDSHAKE_CHECK_SUFFIX = '/.tracing-ws/check';

/** Reads a frame from socket text; `undefined` for anything that is not `{event: string}`. */
export function parseFrame(text: unknown): WsFrame | undefined {
  if (typeof text !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { event?: unknown }).event !== 'string') return undefined;
  const frame = value as WsFrame;
  if (frame.meta !== undefined && (typeof frame.meta !== 'object' || frame.meta === null)) return { event: frame.event, data: frame.data };
  return frame;
}

/** The error data of an error frame, or `undefined` when it is malformed. */
export function readErrorData(frame: WsFrame): WsErrorData | undefined {
  const data = frame.data as Partial<WsErrorData> | undefined;
  if (typeof data !== 'object' || data === null || typeof data.code !== 'string') return undefined;
  return {
    code: data.code,
    message: typeof data.message === 'string' ? data.message : '',
    traceId: typeof data.traceId === 'string' ? data.traceId : frame.meta?.traceId,
    retryable: data.retryable === true,
    ...(data.details !== undefined ? { details: data.details } : {}),
  };
}
