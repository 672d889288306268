import { Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import { WsBroadcaster } from '../broadcast/ws.broadcaster.js';
import type { WsAcceptedHandshake } from '../handshake/ws-handshake.guard.js';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../telemetry/tracing-ws.names.js';
import { connectionLogFields } from '../telemetry/ws-log.mixin.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import { WS_CONNECTION_CONTEXT } from '../tracing-ws.constants.js';
import type { WsConnectionContext } from './ws-connection-context.js';
import { setConnectionState, type WsConnectionState } from './ws-connection.state.js';

const MAX_CLOSE_REASON = 123;

/** Opens and closes connections: context, gauge, counters, lifecycle log lines. */
@Injectable()
export class WsConnectionLifecycle {
  constructor(
    private readonly guard: WsHandshakeGuard,
    private readonly metrics: WsMetrics,
    private readonly log: WsLogger,
    private readonly broadcaster: WsBroadcaster,
  ) {}

  /** Called at the 101: turns the handshake into the socket's connection state. */
  open(socket: WebSocket, handshake: WsAcceptedHandshake): WsConnectionState {
    this.guard.finishAccepted(handshake);
    const handshakeSpanContext = handshake.span.spanContext();
    const context: WsConnectionContext = Object.freeze({
      connectionId: handshake.connectionId,
      traceId: handshake.traceId,
      handshakeSpanContext,
      user: handshake.user,
      remoteAddress: handshake.remoteAddress,
      userAgent: handshake.userAgent,
      origin: handshake.origin,
      path: handshake.path,
      openedAt: Date.now(),
    });
    const gateway = this.metrics.gateway(handshake.path);
    const state: WsConnectionState = {
      socket,
      context,
      metrics: gateway,
      handshakeContext: trace.setSpanContext(ROOT_CONTEXT, handshakeSpanContext),
      spanAttributes: Object.freeze({
        [A.messagingSystem]: 'websocket',
        [A.messagingOperationType]: 'process',
        [A.messagingOperationName]: 'process',
        [A.connectionId]: context.connectionId,
        [A.connectionTraceId]: context.traceId,
        ...(context.user ? { [A.enduserId]: context.user.id } : {}),
        ...(handshake.forceSample ? { [A.forceSample]: true } : {}),
      }),
      store: { [WS_CONNECTION_CONTEXT]: context },
      handlers: new Map(),
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      closed: false,
    };
    setConnectionState(socket, state);
    this.broadcaster.track(state);
    gateway.active.inc();
    gateway.opened.inc();
    const logger = this.log.logger;
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          ...connectionLogFields(context),
          [F.traceId]: context.traceId,
          [F.path]: context.path,
          [F.remoteAddress]: context.remoteAddress,
          [F.origin]: context.origin,
          [F.userAgent]: context.userAgent,
        },
        WS_LOG_MESSAGES.connected,
      );
    }
    socket.once('close', (code: number, reason: Buffer) => this.close(state, code, reason));
    return state;
  }

  private close(state: WsConnectionState, code: number, reason: Buffer): void {
    if (state.closed) return;
    state.closed = true;
    const { context, metrics } = state;
    const seconds = (Date.now() - context.openedAt) / 1000;
    metrics.active.dec();
    metrics.closed(code);
    metrics.connectionDuration.observe(seconds);
    const logger = this.log.logger;
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          ...connectionLogFields(context),
          [F.traceId]: context.traceId,
          [F.path]: context.path,
          [F.code]: code,
          // The reason is the peer's text: truncated and stripped of control characters.
          [F.reason]: reason.toString('utf8', 0, MAX_CLOSE_REASON).replace(/[\u0000-\u001f\u007f]/g, ''),
          [F.durationMs]: Math.round(seconds * 1000),
          [F.messagesIn]: state.messagesIn,
          [F.messagesOut]: state.messagesOut,
          [F.bytesIn]: state.bytesIn,
          [F.bytesOut]: state.bytesOut,
        },
        WS_LOG_MESSAGES.disconnected,
      );
    }
  }
}
