import { Injectable } from '@nestjs/common';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsOutgoingFrame } from '../model/ws-transport.js';
import { WS_LIVE_EVENT_TYPES as LIVE, WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';
import { WsLiveTap } from '../telemetry/ws-live.tap.js';
import type { WsGatewayMetrics } from '../telemetry/ws.metrics.js';

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

  constructor(
    private readonly backpressure: WsBackpressure,
    private readonly tap: WsLiveTap,
  ) {}

  /**
   * Sends `frame` on the connection of `state`; `label` is the `event` metric
   * label. A `droppable` frame (a broadcast) is dropped and counted while the
   * peer's send buffer is over the backpressure threshold. Returns false when
   * nothing was sent.
   */
  send(state: WsConnectionState, frame: WsOutgoingFrame, label: string, droppable = false): boolean {
    const size = this.write(state, frame, label, droppable);
    if (size < 0) return false;
    const event = state.metrics.event(label);
    event.sent.inc();
    event.bytesSent.inc(size);
    return true;
  }

  /**
   * Sends one broadcast `frame` to every connection of `recipients` (droppable, as
   * {@link send}) and returns how many got it. The frame counters are added once per
   * gateway rather than once per recipient; every recipient still counts in its
   * connection's totals and in the size histogram.
   */
  sendToMany(recipients: Iterable<WsConnectionState>, frame: WsOutgoingFrame, label: string): number {
    let delivered = 0;
    let metrics: WsGatewayMetrics | undefined;
    let frames = 0;
    let bytes = 0;
    for (const state of recipients) {
      const size = this.write(state, frame, label, true);
      if (size < 0) continue;
      delivered++;
      if (state.metrics !== metrics) {
        if (metrics) addSent(metrics, label, frames, bytes);
        metrics = state.metrics;
        frames = 0;
        bytes = 0;
      }
      frames++;
      bytes += size;
    }
    if (metrics) addSent(metrics, label, frames, bytes);
    return delivered;
  }

  /** Writes one frame and counts it on its connection; the bytes written, or -1 when nothing was sent. */
  private write(state: WsConnectionState, frame: WsOutgoingFrame, label: string, droppable: boolean): number {
    const { transport } = state;
    if (!transport.isOpen) return -1;
    if (droppable && this.backpressure.congested(state)) {
      state.metrics.droppedBackpressure.inc();
      return -1;
    }
    // Replies to frames that arrived together go out in one write (writev) rather
    // than one system call each: cork on the first send of this turn, uncork after it.
    if (!state.corked && transport.cork()) {
      state.corked = true;
      if (this.corked.push(state) === 1) setImmediate(this.flush);
    }
    const size = transport.send(frame);
    if (size < 0) return -1;
    state.messagesOut++;
    state.bytesOut += size;
    state.metrics.sizeOut.observe(size);
    this.backpressure.afterSend(state);
    if (this.tap.hot) this.tap.emit(state.context, LIVE.sent, {
      [LF.kind]: frame.kind,
      [F.event]: label,
      [LF.size]: size,
      [F.traceId]: frame.kind === 'error' ? frame.data.traceId : frame.meta?.traceId,
      ...(frame.kind === 'error' ? { [F.errorCode]: frame.data.code } : {}),
    });
    return size;
  }
}

function addSent(metrics: WsGatewayMetrics, label: string, frames: number, bytes: number): void {
  const event = metrics.event(label);
  event.sent.inc(frames);
  event.bytesSent.inc(bytes);
}
