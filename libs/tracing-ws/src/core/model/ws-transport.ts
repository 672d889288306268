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
  /** Sends one serialised frame. */
  send(text: string): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Drops the connection without a closing handshake. */
  terminate(): void;
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
