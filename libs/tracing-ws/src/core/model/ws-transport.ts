import type { WsErrorData, WsFrameMeta } from './ws-protocol.js';

/**
 * The transports the library serves, as the `transport` metric label, log field
 * and `WsConnectionContext#transport` name them. Bounded: never a client value.
 */
export type WsTransportName = 'ws' | 'socket.io';

/** The `messaging.system` span attribute of each transport. */
export const WS_MESSAGING_SYSTEMS: Readonly<Record<WsTransportName, string>> = Object.freeze({ ws: 'websocket', 'socket.io': 'socket.io' });

/** The `network.protocol.name` span attribute of each transport (socket.io runs over engine.io: websocket or long-polling). */
export const WS_NETWORK_PROTOCOLS: Readonly<Record<WsTransportName, string>> = Object.freeze({ ws: 'websocket', 'socket.io': 'socket.io' });

/** An acknowledgement callback of a message (socket.io): its first argument is what the client's `emitWithAck` resolves with. */
export type WsAck = (value: unknown) => void;

/**
 * One outgoing frame as the core describes it; each transport puts it on the
 * wire its own way (ws: JSON text `{"event","data","meta"}`; socket.io: an
 * emitted event or an acknowledgement).
 */
export type WsOutgoingFrame =
  /**
   * An event the server sends: a broadcast, or a handler's `{event, data}` reply.
   * `text` is the ws serialisation when the caller already has it (a broadcast
   * serialises once for all its recipients); `data` may then be omitted.
   */
  | {
      readonly kind: 'event';
      readonly event: string;
      readonly data?: unknown;
      readonly meta: WsFrameMeta | undefined;
      readonly text?: string;
      /**
       * The UTF-8 bytes of `text`, kept on the frame by the first ws connection that
       * sends it, so that a broadcast is encoded once for all its recipients.
       */
      encoded?: Buffer;
    }
  /** A handler's result that names no event: `meta` is what the server adds (trace id, message id), undefined when nothing. */
  | { readonly kind: 'reply'; readonly value: unknown; readonly meta: WsFrameMeta | undefined; readonly ack: WsAck | undefined }
  /** The error of one message (or of the connection, with no message). */
  | { readonly kind: 'error'; readonly data: WsErrorData; readonly meta: WsFrameMeta; readonly ack: WsAck | undefined };

/**
 * One client connection as a transport presents it to the core. The core never
 * touches a transport's socket: it sends, closes, probes and throttles through
 * this, so that the same dispatch, policy and lifecycle serve every transport.
 * Implemented by each transport (`transports/ws`). Internal.
 */
export interface WsTransportConnection {
  /** What gateway handlers receive as their client (the `ws` WebSocket, for instance). */
  readonly client: object;
  /** True while frames can be sent. */
  readonly isOpen: boolean;
  /** Bytes queued for the peer and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Puts one frame on the wire; returns the bytes written, or -1 when the transport had nothing to send for it. */
  send(frame: WsOutgoingFrame): number;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
  /** Reads nothing more from the peer (a connection the server is closing for abuse). */
  stopReading(): void;
  /** Sends a heartbeat probe; the transport reports the answer to the lifecycle. */
  ping(): void;
  /**
   * Holds writes back until {@link uncork}, so that frames sent in one turn of the
   * event loop leave in one write. False when the transport cannot hold writes.
   */
  cork(): boolean;
  uncork(): void;
  /**
   * Stops reading from the peer until what it has been sent drains (TCP
   * backpressure), then reads again and calls `onDrained`. No-op when already paused.
   */
  pauseUntilDrained(onDrained: () => void): void;
}
