import { WsClientError } from '../ws-client.error.js';
import type { WsMessages } from '../ws-error.messages.js';

/**
 * A handshake the server refused (`connect_error` with `data: { code, status,
 * traceId }`): a bad or missing credential (401 `UNAUTHORIZED`), a forbidden user
 * (403), a limit (429 `RATE_LIMITED`, 503 `UNAVAILABLE`). socket.io-client does
 * not reconnect after it, so a page should say so and offer to sign in again.
 */
export class IoRefusalError extends WsClientError {
  /** The HTTP status the refusal stands for: 401, 403, 429, 503… */
  readonly status: number;

  constructor(init: ConstructorParameters<typeof WsClientError>[0] & { status: number }) {
    super(init);
    this.status = init.status;
  }
}

/**
 * The {@link IoRefusalError} of a `connect_error`, or `undefined` when the error is
 * not a server's refusal (a network or transport failure, which socket.io-client
 * retries on its own). Its text is the one of any refused handshake, as the ws
 * client's: `refused.<status>` ({@link WsMessages.refused}).
 */
export function readIoRefusal(err: unknown, messages: WsMessages): IoRefusalError | undefined {
  const data = (err as { data?: unknown } | null)?.data as { code?: unknown; status?: unknown; traceId?: unknown } | null | undefined;
  if (typeof data !== 'object' || data === null || typeof data.code !== 'string' || typeof data.status !== 'number') return undefined;
  const message = err instanceof Error ? err.message : '';
  const traceId = typeof data.traceId === 'string' ? data.traceId : undefined;
  return new IoRefusalError({
    code: data.code,
    status: data.status,
    message,
    userMessage: messages.refused(data.status),
    traceId,
    supportText: messages.support(traceId),
    // A limit may lift; a refused credential will be refused again.
    retryable: data.status === 429 || data.status >= 500,
  });
}
