import type { IncomingHttpHeaders } from 'node:http';
import type { WsTransportName } from './ws-transport.js';

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
  /** Port of the TCP peer. */
  readonly remotePort?: number;
  /** The transport the request arrived on. */
  readonly transport: WsTransportName;
  /**
   * The connection payload the client sent with the request, when its protocol has
   * one: socket.io's `auth` (`io(url, { auth: { token, traceparent } })`). Client
   * data: read it as untrusted. Undefined on ws.
   */
  readonly auth: Readonly<Record<string, unknown>> | undefined;
  /** The transport's own request object, for hooks that need more (`IncomingMessage` on ws; socket.io's `Socket` in its namespace middleware). */
  readonly raw: unknown;
}
