import type { WsClientError } from '../ws-client.error.js';
import type { WsMessagesOption } from '../ws-error.messages.js';
import type { WsFrameMeta } from '../ws-protocol.js';
import type { IoRefusalError } from './io-refusal.error.js';

/** Options of {@link TracingIoClient}. */
export interface TracingIoClientOptions {
  /**
   * After connecting again following failures, emit one `tracing-ws:report` of what the
   * client saw (time offline, failed attempts, close codes, last round-trip time), which
   * the server logs with the session's trace id. @defaultValue true
   */
  reportOutages?: boolean;
  /** Default timeout of `request()`. @defaultValue 10000 */
  requestTimeoutMs?: number;
  /** The sampled flag of the traceparents it sends. @defaultValue true */
  sampled?: boolean;
  /** Overrides of the user-facing texts, or a translate function (as `TracingWsClient`'s). */
  messages?: WsMessagesOption;
}

/** What the server says of a session right after it connects (`tracing-ws:session`). */
export interface IoSession {
  /** The session's trace id: the handshake's, in the server's logs and traces. */
  traceId: string;
  connectionId: string;
}

/** A reply to {@link TracingIoClient.request}: the acknowledgement, read. */
export interface IoReply<T = unknown> {
  data: T;
  /** The server's trace id for the message (show it next to the result). */
  traceId: string | undefined;
  /** `$meta.id` of the message. */
  id: string;
  meta: WsFrameMeta;
}

/** What the server said before closing a connection (`tracing-ws:close`). */
export interface IoClosing {
  /** A close code of the server's table (1001 going away, 4401 credential expired…). */
  code: number;
  reason: string;
  /** The user-facing text of the close code. */
  message: string;
  /** Whether socket.io-client reconnects by itself (1001, 1012, 1013); otherwise the socket stays disconnected. */
  reconnects: boolean;
}

/** Events of {@link TracingIoClient}, by name. */
export interface IoClientEvents {
  /** The server accepted a connection (each reconnection too). */
  session: IoSession;
  /** The server refused the handshake; socket.io-client does not retry. */
  refused: IoRefusalError;
  /** The server is about to close the connection. */
  closing: IoClosing;
  /** An `exception` event: a failed message that asked for no acknowledgement. */
  error: WsClientError;
}
