import type { WsClientError } from './ws-client.error.js';
import type { WsRefusal } from './ws-handshake.check.js';
import type { WsFrame, WsFrameMeta, WsRecoveryFailure } from './ws-protocol.js';

/** The client's connection state. */
export type WsClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A reply to {@link TracingWsClient.request}. */
export interface WsReply<T = unknown> {
  event: string;
  data: T;
  /** The server's trace id for the request (show it next to the result). */
  traceId: string | undefined;
  /** `meta.id` of the request. */
  id: string;
  meta: WsFrameMeta;
}

/** What {@link TracingWsClient.send} put on the wire. */
export interface WsSentMessage {
  /** `meta.id`; the reply echoes it. */
  id: string;
  /** The trace id of this message (the server continues it). */
  traceId: string;
  traceparent: string;
}

/** Events of {@link TracingWsClient}, by name. */
export interface WsClientEvents {
  /** A connection attempt starts (`attempt` 0 for the first, then the retry number). */
  connecting: { attempt: number; url: string; traceId: string };
  /** The socket is open (the server accepted the handshake). */
  open: { attempt: number; traceId: string; protocol: string };
  /** The socket closed and the client will retry after `delayMs` (at `retryAt`, epoch ms). */
  reconnecting: { attempt: number; delayMs: number; retryAt: number; code: number; reason: string; message: string; wasOpen: boolean; traceId: string };
  /**
   * The client stopped for good: `close()`, a stop code, `gaveUp` after `maxAttempts`, or
   * `refusal`: the server refused the handshake (401 / 403, learnt from its check endpoint);
   * `message` then says so, and `traceId` is the refusal's in the server's logs.
   */
  closed: { code: number; reason: string; message: string; wasOpen: boolean; gaveUp: boolean; traceId: string; refusal?: WsRefusal };
  /** Every frame received, replies included. */
  frame: WsFrame;
  /** An error frame that answers no pending request (or a failed re-join). */
  error: WsClientError;
  /** A room joined again after a reconnect. */
  rejoined: { room: string; reply: WsReply };
  /**
   * The server replayed what this client missed in `room` (after a reconnect or a gap):
   * `count` broadcasts, already delivered to `subscribe` handlers in order, with `meta.recovered`.
   */
  recovered: { room: string; count: number };
  /**
   * Broadcasts of `room` were missed and cannot be replayed (`gap`: more than the server
   * keeps; `epoch`: its history restarted; `unavailable`: its Redis was down). Emitted once
   * per failure: refetch the room's state from your own store.
   */
  recoveryFailed: { room: string; reason: WsRecoveryFailure };
}
