import type { WsCloseInitiator } from '../model/ws-protocol.js';
import type { WsConnectionState } from './ws-connection.state.js';


/** How long a peer the server closes gets to take its close frame before it is terminated. */
export const CLOSE_GRACE_MS = 1000;

export interface WsCloseOptions {
  /** Stop reading from the peer at once (an abuser: its frames are not parsed any more). */
  readonly stopReading?: boolean;
  /** Terminate after this many ms if the close handshake has not finished; 0: never (the caller bounds it). */
  readonly graceMs?: number;
}

/**
 * The one way the library closes a connection: records the code it sends and who
 * decided (so that metrics and logs show that code even when the peer's close
 * never arrives), optionally stops reading, sends the close, and terminates the
 * connection if it has not closed within the grace period. Idempotent.
 */
export function closeConnection(state: WsConnectionState, code: number, reason: string, by: WsCloseInitiator, options: WsCloseOptions = {}): void {
  if (state.closed || state.closedBy !== undefined) return;
  state.closedBy = by;
  state.serverCloseCode = code;
  const { transport } = state;
  if (options.stopReading) transport.stopReading();
  transport.close(code, reason);
  const graceMs = options.graceMs ?? CLOSE_GRACE_MS;
  if (graceMs > 0) {
    setTimeout(() => {
      if (!state.closed) transport.terminate();
    }, graceMs).unref();
  }
}

/**
 * Records that the transport itself closed the connection for `by` with `code`
 * (ws after a protocol error, the heartbeat's terminate): what `closeConnection`
 * records, for closes the library did not send through it.
 */
export function recordClose(state: WsConnectionState, code: number, by: WsCloseInitiator): void {
  if (state.closed || state.closedBy !== undefined) return;
  state.closedBy = by;
  state.serverCloseCode = code;
}
