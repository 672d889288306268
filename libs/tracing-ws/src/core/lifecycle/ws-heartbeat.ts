import { Injectable } from '@nestjs/common';
import { recordClose } from '../connection/ws-connection.close.js';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import { WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';
import { connectionLine } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';

/**
 * The heartbeat rule: at every tick, a connection that has not been heard from
 * since the previous tick is terminated, and every other one is probed. A
 * transport calls {@link tick} every `heartbeat.intervalMs` with its connections;
 * one whose protocol probes by itself (socket.io) ticks with `probe: false`, so
 * that only the backpressure rule applies.
 */
@Injectable()
export class WsHeartbeat {
  constructor(
    private readonly backpressure: WsBackpressure,
    private readonly log: WsLogger,
  ) {}

  tick(states: Iterable<WsConnectionState>, { probe = true }: { probe?: boolean } = {}): void {
    const now = performance.now();
    for (const state of states) {
      // A peer that does not read is judged by the backpressure rule (its input is
      // paused, so its pongs cannot arrive): closed with 1013 once stuck too long,
      // even when nothing is sent to it any more.
      if (this.backpressure.congested(state, now) || !probe) continue;
      if (!state.alive) {
        this.timedOut(state);
        state.transport.terminate();
        continue;
      }
      state.alive = false;
      state.transport.ping();
    }
  }

  /**
   * Counts and logs a connection lost to the heartbeat; called by {@link tick},
   * and by a transport whose protocol runs its own heartbeat (socket.io's
   * "ping timeout").
   */
  timedOut(state: WsConnectionState): void {
    // Terminated: no close code is sent, 1006 is what both sides see.
    recordClose(state, 1006, 'heartbeat');
    state.metrics.heartbeatTimeouts.inc();
    const logger = this.log.logger;
    if (logger.isLevelEnabled('warn')) logger.warn(connectionLine(state.context), WS_LOG_MESSAGES.heartbeatTimeout);
  }
}
