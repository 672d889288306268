import { WS_HANDSHAKE_CHECK_SUFFIX } from './ws-protocol.js';

/** The server refused the handshake for a reason a retry cannot fix (its check endpoint said so). */
export interface WsRefusal {
  /** The HTTP status the upgrade got: 401 (missing or refused credential) or 403 (origin not allowed). */
  status: number;
  /** The server's reason: `invalid_credentials`, `missing_credentials`, `origin_not_allowed`, … */
  reason: string;
  /** The trace id of the refusal in the server's logs. */
  traceId: string | undefined;
}

/** What the check of an attempt that closed before opening decided. */
export type WsCheckVerdict =
  /** 401 or 403: stop, and tell the user. */
  | { kind: 'refused'; refusal: WsRefusal }
  /** Anything else (accepted now, busy, rate limited, no endpoint, unreachable): back off, waiting at least `floorMs`. */
  | { kind: 'retry'; floorMs: number };

/** Statuses after which retrying with the same credential from the same page cannot succeed. */
const FINAL_STATUSES: ReadonlySet<number> = new Set([401, 403]);

const RETRY: WsCheckVerdict = { kind: 'retry', floorMs: 0 };

/**
 * The check endpoint of the gateway a socket URL points at:
 * `ws(s)://host/chat?q` → `http(s)://host/chat/.tracing-ws/check?q`. The query
 * (trace context, and `access_token` when the token goes there) stays, so that
 * the check is judged on what the upgrade carried and logged under its trace id.
 */
export function checkUrlOf(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${WS_HANDSHAKE_CHECK_SUFFIX}`;
  url.hash = '';
  return url.toString();
}

/**
 * Reads the check endpoint's answer. Only a 401 or 403 whose body is the
 * endpoint's own JSON (`{ status, reason, traceId }`) is a refusal: a proxy's or
 * CDN's error page for that path says nothing about the credential.
 *
 * @param retryAfter the `Retry-After` header (seconds or an HTTP date)
 */
export function readCheckAnswer(status: number, body: unknown, retryAfter: string | null, now: number = Date.now()): WsCheckVerdict {
  const answer = typeof body === 'object' && body !== null ? (body as { status?: unknown; reason?: unknown; traceId?: unknown }) : undefined;
  const own = answer !== undefined && answer.status === status && typeof answer.reason === 'string';
  if (own && FINAL_STATUSES.has(status)) {
    const traceId = typeof answer.traceId === 'string' && /^[0-9a-f]{32}$/.test(answer.traceId) ? answer.traceId : undefined;
    return { kind: 'refused', refusal: { status, reason: answer.reason as string, traceId } };
  }
  return { kind: 'retry', floorMs: retryAfterMs(retryAfter, now) };
}

/** `Retry-After` in milliseconds (delta seconds or an HTTP date); 0 when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number {
  if (value === null || value.trim() === '') return 0;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? 0 : Math.max(0, date - now);
}

/** What {@link checkHandshake} needs of the attempt that failed. */
export interface WsCheckRequest {
  /** The socket URL of the attempt (with its query). */
  socketUrl: string;
  /** The token the attempt offered as a `bearer.<token>` subprotocol: sent as `Authorization: Bearer` (a page cannot set `Sec-WebSocket-Protocol`). */
  bearerToken: string | undefined;
  timeoutMs: number;
  fetch: typeof fetch;
  /** Aborts the check (the client was closed meanwhile). */
  signal?: AbortSignal;
}

/**
 * Asks the gateway's check endpoint what the last upgrade got. Never throws: a
 * check that cannot be made or read (server down, timeout, old server) is a
 * `retry` with no floor, the same backoff as without a check.
 */
export async function checkHandshake(request: WsCheckRequest): Promise<WsCheckVerdict> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const timer = setTimeout(abort, request.timeoutMs);
  request.signal?.addEventListener('abort', abort);
  // Called without a receiver: a browser's fetch throws "Illegal invocation" when `this` is not the window.
  const fetchCheck = request.fetch;
  try {
    const response = await fetchCheck(checkUrlOf(request.socketUrl), {
      headers: request.bearerToken ? { authorization: `Bearer ${request.bearerToken}` } : {},
      // The cookies the upgrade carried (the server's CORS answer allows them).
      credentials: 'include',
      cache: 'no-store',
      signal: controller.signal,
    });
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    return readCheckAnswer(response.status, body, response.headers.get('retry-after'));
  } catch {
    return RETRY;
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', abort);
  }
}
