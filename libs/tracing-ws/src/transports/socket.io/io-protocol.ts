import { STATUS_CODES } from 'node:http';
import type { WsRejectedHandshake } from '../../core/handshake/ws-handshake.outcome.js';
import { WS_CLOSE_CODES, WS_ERROR_CODES, type WsCloseInitiator, type WsErrorCode } from '../../core/model/ws-protocol.js';

/** How socket.io's disconnects and refusals map onto the library's close codes and errors (README, "socket.io"). */

/** Close codes after which a client should come back (to this or another instance): the transport is closed, so socket.io-client reconnects. */
const RECONNECT_AFTER: ReadonlySet<number> = new Set([WS_CLOSE_CODES.goingAway, 1012, WS_CLOSE_CODES.tryAgainLater]);

export function reconnectsAfter(code: number): boolean {
  return RECONNECT_AFTER.has(code);
}

/**
 * The close code recorded for a socket.io disconnect `reason` (socket.io has no
 * close codes): what the server chose when it closed, else the ws code with the
 * same meaning. A `ping timeout` counts as the ws heartbeat's 1006.
 */
export function closeCodeOf(reason: string, serverCode: number | undefined): number {
  if (serverCode !== undefined) return serverCode;
  switch (reason) {
    case 'client namespace disconnect':
    case 'server namespace disconnect':
    case 'forced close':
    case 'forced server close':
      return WS_CLOSE_CODES.normal;
    case 'server shutting down':
      return WS_CLOSE_CODES.goingAway;
    case 'parse error':
      return WS_CLOSE_CODES.badRequest;
    default:
      // 'transport close', 'transport error', 'ping timeout': the connection was lost.
      return 1006;
  }
}

/** Who ended a connection, by socket.io's disconnect `reason` (when the library did not close it itself). */
export function closedByOf(reason: string): WsCloseInitiator {
  switch (reason) {
    case 'client namespace disconnect':
      return 'client';
    case 'server shutting down':
      return 'shutdown';
    case 'server namespace disconnect':
    case 'forced server close':
    case 'forced close':
      return 'server';
    case 'parse error':
      return 'policy';
    case 'ping timeout':
      return 'heartbeat';
    default:
      return 'network';
  }
}

/** The socket.io disconnect reason of a heartbeat timeout. */
export const IO_PING_TIMEOUT = 'ping timeout';

const REFUSAL_CODES: Readonly<Record<number, WsErrorCode>> = {
  400: WS_ERROR_CODES.badRequest,
  401: WS_ERROR_CODES.unauthorized,
  403: WS_ERROR_CODES.forbidden,
  429: WS_ERROR_CODES.rateLimited,
};

/** What a refused socket.io client gets in `connect_error`'s `data`. */
export interface IoRefusalData {
  readonly code: WsErrorCode | 'UNAVAILABLE';
  readonly status: number;
  readonly traceId: string;
  /** Seconds before trying again, for a refusal that says so (`handshake_limit`). */
  readonly retryAfter?: number;
}

/**
 * The error a namespace middleware passes to `next()` for a refused handshake:
 * the client's `connect_error` gets the status text as `message` and
 * `{ code, status, traceId }` as `data`; never the hook's error text.
 */
export function refusalError(outcome: WsRejectedHandshake): Error & { data: IoRefusalData } {
  const code = REFUSAL_CODES[outcome.status] ?? (outcome.status === 503 ? 'UNAVAILABLE' : WS_ERROR_CODES.internal);
  const err = new Error(outcome.hint ?? STATUS_CODES[outcome.status] ?? 'Refused') as Error & { data: IoRefusalData };
  err.data = { code, status: outcome.status, traceId: outcome.traceId, ...(outcome.retryAfterSeconds !== undefined ? { retryAfter: outcome.retryAfterSeconds } : {}) };
  return err;
}
