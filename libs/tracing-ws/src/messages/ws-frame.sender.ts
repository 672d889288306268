import { Injectable } from '@nestjs/common';
import type { WsConnectionState } from '../context/ws-connection.state.js';

const OPEN = 1;

/** Writes frames to sockets and counts them (frames, bytes, size histogram). */
@Injectable()
export class WsFrameSender {
  /**
   * Sends `text` (an already serialised frame) to the socket of `state`;
   * `label` is the `event` metric label. Returns false when the socket is not open.
   */
  send(state: WsConnectionState, text: string, label: string): boolean {
    if (state.socket.readyState !== OPEN) return false;
    const size = Buffer.byteLength(text);
    state.messagesOut++;
    state.bytesOut += size;
    state.metrics.sizeOut.observe(size);
    state.metrics.event(label).sent.inc();
    state.socket.send(text);
    return true;
  }
}
