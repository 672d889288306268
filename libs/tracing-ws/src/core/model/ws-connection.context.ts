import type { Span, SpanContext } from '@opentelemetry/api';
import type { WsRoomPosition } from './ws-protocol.js';
import type { WsTransportName } from './ws-transport.js';

/** What the library reads of a user: any application type with these fields will do. */
export interface WsUserFields {
  /** Stable user id: becomes `enduser.id` on spans and `user_id` in logs. */
  readonly id: string;
  /** When the credential expires (ms since the epoch, or a Date): the socket is then closed with 4401. */
  readonly expiresAt?: number | Date;
}

/**
 * Augment this interface to give the library your user type, so that
 * `authenticate` must return it and `WsContextService#user` is typed with it:
 *
 * @example
 * declare module '@tracing-ws/nestjs' {
 *   interface WsUserTypes {
 *     user: User; // your interface or class, with `id: string`
 *   }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface WsUserTypes {}

/**
 * The authenticated user of a connection, as returned by the `authenticate` hook:
 * the type given in {@link WsUserTypes}, else {@link WsUserFields}.
 */
export type WsUser = WsUserTypes extends { user: infer U extends WsUserFields } ? U : WsUserFields;

/**
 * What the handshake learned about a connection; attached to the socket and
 * readable anywhere in its call tree through {@link WsContextService}.
 */
export interface WsConnectionContext {
  /** Random id of this connection (UUID), `connection_id` in logs. */
  readonly connectionId: string;
  /** Trace id of the handshake (32 lowercase hex), `connection_trace_id` in logs. */
  readonly traceId: string;
  /** Span context of the handshake span; message spans link to or descend from it. */
  readonly handshakeSpanContext: SpanContext;
  /** The user returned by the `authenticate` hook, when authenticated. */
  readonly user: WsUser | undefined;
  /** Client address (the first `X-Forwarded-For` hop when `trustProxy` is on). */
  readonly remoteAddress: string | undefined;
  /** `User-Agent` header, sanitised and truncated. */
  readonly userAgent: string | undefined;
  /** `Origin` header, sanitised and truncated. */
  readonly origin: string | undefined;
  /** Gateway path the connection was accepted on (on socket.io: the namespace, e.g. `/chat`). */
  readonly path: string;
  /** The transport of the connection. */
  readonly transport: WsTransportName;
  /** When the upgrade completed (ms since the epoch). */
  readonly openedAt: number;
}

/** The message being handled, readable in its handler's call tree. */
export interface WsMessageContext {
  /** Event name of the frame (a registered handler pattern). */
  readonly event: string;
  /** `meta.id` of the frame, when the client sent one. */
  readonly id: string | undefined;
  /** Trace id of this message's handling (falls back to the connection's when no SDK records). */
  readonly traceId: string;
  /** Span id of this message's span (all zeros when no SDK records). */
  readonly spanId: string;
  /** The message span. */
  readonly span: Span;
  /**
   * `meta.recover` of the frame: the room position a client library re-joining after a
   * reconnect asks to recover from. `WsBroadcaster.join()` reads it (README, "Room history and recovery").
   */
  readonly recover?: WsRoomPosition;
}
