import { Inject, Injectable } from '@nestjs/common';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { connectionLogFields } from '../telemetry/ws-log.mixin.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WS_CLOSE_CODES } from '../model/ws-protocol.js';

const OPEN = 1;
/** How long a slow consumer gets to take its close frame before it is terminated. */
const CLOSE_GRACE_MS = 1000;

interface TcpLike {
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}

function tcpOf(state: WsConnectionState): TcpLike | undefined {
  return (state.socket as unknown as { _socket?: TcpLike })._socket;
}

/** Writes frames to sockets and counts them (frames, bytes, size histogram). */
@Injectable()
export class WsFrameSender {
  /** Connections whose socket was corked during this turn of the event loop; uncorked together once it ends. */
  private readonly corked: WsConnectionState[] = [];
  private readonly flush = (): void => {
    for (const state of this.corked) {
      state.corked = false;
      const tcp = tcpOf(state);
      if (tcp && !tcp.destroyed) tcp.uncork();
    }
    this.corked.length = 0;
  };

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
  ) {}

  /**
   * Sends `text` (an already serialised frame) to the socket of `state`;
   * `label` is the `event` metric label. A `droppable` frame (a broadcast) is
   * dropped and counted while the socket's send buffer is over the backpressure
   * threshold. Returns false when nothing was sent.
   */
  send(state: WsConnectionState, text: string, label: string, droppable = false): boolean {
    if (state.socket.readyState !== OPEN) return false;
    if (droppable && this.congested(state)) {
      state.metrics.droppedBackpressure.inc();
      return false;
    }
    const size = Buffer.byteLength(text);
    state.messagesOut++;
    state.bytesOut += size;
    state.metrics.sizeOut.observe(size);
    state.metrics.event(label).sent.inc();
    // Replies to frames that arrived together go out in one write (writev) rather
    // than one system call each: cork on the first send of this turn, uncork after it.
    if (!state.corked) {
      const tcp = tcpOf(state);
      if (tcp) {
        tcp.cork();
        state.corked = true;
        if (this.corked.push(state) === 1) setImmediate(this.flush);
      }
    }
    state.socket.send(text);
    if (state.socket.bufferedAmount > this.options.backpressure.maxBufferedBytes) this.throttle(state);
    return true;
  }

  /**
   * The peer is not reading what it is sent: stop reading what it sends (TCP
   * backpressure) until its send buffer drains, so a client that floods
   * requests without reading replies cannot grow the server's memory.
   */
  private throttle(state: WsConnectionState): void {
    const { socket } = state;
    if (state.congestedSince === 0) state.congestedSince = performance.now();
    if (socket.isPaused) return;
    socket.pause();
    const tcp = (socket as unknown as { _socket?: { once(event: 'drain', fn: () => void): void } })._socket;
    tcp?.once('drain', () => {
      state.congestedSince = 0;
      if (socket.readyState === OPEN) socket.resume();
    });
  }

  /**
   * Whether the socket's send buffer is over the threshold; one that has stayed
   * over it for `closeAfterMs` is closed with 1013 (and terminated if even the
   * close frame cannot get through).
   */
  congested(state: WsConnectionState, now: number = performance.now()): boolean {
    const { maxBufferedBytes, closeAfterMs } = this.options.backpressure;
    if (state.socket.bufferedAmount <= maxBufferedBytes) {
      state.congestedSince = 0;
      return false;
    }
    if (state.congestedSince === 0) state.congestedSince = now;
    else if (now - state.congestedSince >= closeAfterMs && state.socket.readyState === OPEN) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) {
        logger.warn({ ...connectionLogFields(state.context), [F.traceId]: state.context.traceId, [F.bufferedBytes]: state.socket.bufferedAmount }, WS_LOG_MESSAGES.slowConsumer);
      }
      const { socket } = state;
      // Its close frame waits behind the unread data: record the code the server chose.
      state.serverCloseCode = WS_CLOSE_CODES.tryAgainLater;
      socket.close(WS_CLOSE_CODES.tryAgainLater, 'Too slow: not reading');
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
    }
    return true;
  }
}
