import { Injectable } from '@nestjs/common';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsOutgoingFrame } from '../model/ws-transport.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';

/** Writes frames to connections and counts them (frames, bytes, size histogram). */
@Injectable()
export class WsFrameSender {
  /** Connections corked during this turn of the event loop; uncorked together once it ends. */
  private readonly corked: WsConnectionState[] = [];
  private readonly flush = (): void => {
    for (const state of this.corked) {
      state.corked = false;
      state.transport.uncork();
    }
    this.corked.length = 0;
  };

  constructor(private readonly backpressure: WsBackpressure) {}

  /**
   * Sends `frame` on the connection of `state`; `label` is the `event` metric
   * label. A `droppable` frame (a broadcast) is dropped and counted while the
   * peer's send buffer is over the backpressure threshold. Returns false when
   * nothing was sent.
   */
  send(state: WsConnectionState, frame: WsOutgoingFrame, label: string, droppable = false): boolean {
    const { transport } = state;
    if (!transport.isOpen) return false;
    if (droppable && this.backpressure.congested(state)) {
      state.metrics.droppedBackpressure.inc();
      return false;
    }
    // Replies to frames that arrived together go out in one write (writev) rather
    // than one system call each: cork on the first send of this turn, uncork after it.
    if (!state.corked && transport.cork()) {
      state.corked = true;
      if (this.corked.push(state) === 1) setImmediate(this.flush);
    }
    const size = transport.send(frame);
    if (size < 0) return false;
    state.messagesOut++;
    state.bytesOut += size;
    state.metrics.sizeOut.observe(size);
    const event = state.metrics.event(label);
    event.sent.inc();
    event.bytesSent.inc(size);
    this.backpressure.afterSend(state);
    return true;
  }
}
