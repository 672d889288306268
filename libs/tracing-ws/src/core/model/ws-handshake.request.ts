import type { IncomingHttpHeaders } from 'node:http';

/**
 * A connection request as every transport can describe it: what the handshake
 * guard, the `authenticate` hook and `allowForceSampling` are given.
 */
export interface WsHandshakeRequest {
  /** Request headers (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** Request target as sent: path and query string. */
  readonly url: string;
  /** Address of the TCP peer (a proxy's, behind one: see `trustProxy`). */
  readonly remoteAddress: string | undefined;
  /** The transport's own request object, for hooks that need more (`IncomingMessage` on ws). */
  readonly raw: unknown;
}
