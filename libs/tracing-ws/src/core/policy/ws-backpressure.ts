import { Inject, Injectable } from '@nestjs/common';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import { WS_CLOSE_CODES } from '../model/ws-protocol.js';
import { closeConnection } from '../connection/ws-connection.close.js';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { connectionLine } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';

/**
 * Slow readers: a peer that does not read what it is sent loses broadcasts, has
 * its input paused until its send buffer drains (so it cannot grow the server's
 * memory by flooding requests), and is closed with 1013 once it has stayed
 * congested for `backpressure.closeAfterMs`.
 */
@Injectable()
export class WsBackpressure {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly log: WsLogger,
  ) {}

  /** After a send: pauses the peer's input while its send buffer is over the threshold. */
  afterSend(state: WsConnectionState): void {
    if (state.transport.bufferedAmount <= this.options.backpressure.maxBufferedBytes) return;
    if (state.congestedSince === 0) state.congestedSince = performance.now();
    state.transport.pauseUntilDrained(() => (state.congestedSince = 0));
  }

  /**
   * Whether the send buffer is over the threshold; one that has stayed over it
   * for `closeAfterMs` is closed with 1013 (and terminated if even the close
   * frame cannot get through).
   */
  congested(state: WsConnectionState, now: number = performance.now()): boolean {
    const { maxBufferedBytes, closeAfterMs } = this.options.backpressure;
    const { transport } = state;
    if (transport.bufferedAmount <= maxBufferedBytes) {
      state.congestedSince = 0;
      return false;
    }
    if (state.congestedSince === 0) state.congestedSince = now;
    else if (now - state.congestedSince >= closeAfterMs && transport.isOpen) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) {
        const fields = connectionLine(state.context);
        fields[F.bufferedBytes] = transport.bufferedAmount;
        logger.warn(fields, WS_LOG_MESSAGES.slowConsumer);
      }
      // Its close frame waits behind the unread data: terminated after the grace period.
      closeConnection(state, WS_CLOSE_CODES.tryAgainLater, 'Too slow: not reading', 'policy');
    }
    return true;
  }
}
