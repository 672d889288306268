import { Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { WebSocket } from 'ws';
import { WsBroadcaster } from '../broadcast/ws.broadcaster.js';
import type { WsAcceptedHandshake } from '../handshake/ws-handshake.guard.js';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import { WS_EVENT_LABELS, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { addTraceLogFields, connectionLogFields } from '../telemetry/ws-log.mixin.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WS_CLOSE_CODES, WS_ERROR_CODES } from '../model/ws-protocol.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import { WS_CONNECTION_CONTEXT } from '../model/tracing-ws.constants.js';
import { WS_CONNECTION_ERROR_EVENT } from '../model/tracing-ws.tokens.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import { setConnectionState, type WsConnectionState } from '../connection/ws-connection.state.js';

const MAX_CLOSE_REASON = 123;

/** Opens and closes connections: context, gauge, counters, lifecycle log lines. */
@Injectable()
export class WsConnectionLifecycle {
  constructor(
    private readonly guard: WsHandshakeGuard,
    private readonly metrics: WsMetrics,
    private readonly log: WsLogger,
    private readonly broadcaster: WsBroadcaster,
    private readonly admission: WsAdmission,
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
      // Only what a sampler may decide on is passed at span start (the SDK validates
      // start attributes even for spans it then drops); the rest is set when recording.
      spanAttributes: Object.freeze({
        ...(context.user ? { [A.enduserId]: context.user.id } : {}),
        ...(handshake.forceSample ? { [A.forceSample]: true } : {}),
      }),
      recordedAttributes: Object.freeze({
        [A.messagingSystem]: 'websocket',
        [A.messagingOperationType]: 'process',
        [A.messagingOperationName]: 'process',
        [A.connectionId]: context.connectionId,
        [A.connectionTraceId]: context.traceId,
      }),
      handshakeLinks: trace.isSpanContextValid(handshakeSpanContext) ? [{ context: handshakeSpanContext }] : undefined,
      store: { [WS_CONNECTION_CONTEXT]: context },
      handlers: new Map(),
      messagesIn: 0,
      messagesOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      closed: false,
      alive: true,
      invalidCount: 0,
      invalidWindowStart: 0,
      bucket: this.admission.bucketFor(context.user?.id),
      refusedInARow: 0,
      congestedSince: 0,
      serverCloseCode: undefined,
      corked: false,
    };
    setConnectionState(socket, state);
    this.broadcaster.track(state);
    gateway.active.inc();
    gateway.opened.inc();
    this.logLine('info', state, WS_LOG_MESSAGES.connected, {
      [F.remoteAddress]: context.remoteAddress,
      [F.origin]: context.origin,
      [F.userAgent]: context.userAgent,
    });
    socket.on('pong', () => (state.alive = true));
    socket.on('error', (err: Error & { code?: string }) => this.onSocketError(state, err));
    socket.on(WS_CONNECTION_ERROR_EVENT, (err: unknown, where: string) => this.onHandlerError(state, err, where));
    const expiry = this.scheduleExpiry(state);
    socket.once('close', (code: number, reason: Buffer) => {
      if (expiry) clearTimeout(expiry);
      this.close(state, code, reason);
    });
    return state;
  }

  /** Closes the socket with 4401 when the user's credential expires. */
  private scheduleExpiry(state: WsConnectionState): NodeJS.Timeout | undefined {
    const expiresAt = state.context.user?.expiresAt;
    const at = expiresAt instanceof Date ? expiresAt.getTime() : typeof expiresAt === 'number' ? expiresAt : undefined;
    if (at === undefined || !Number.isFinite(at)) return undefined;
    const fire = () => {
      this.logLine('info', state, WS_LOG_MESSAGES.authExpired, {});
      state.socket.close(WS_CLOSE_CODES.unauthorized, 'Authentication expired');
    };
    const delay = at - Date.now();
    if (delay <= 0) {
      setImmediate(fire);
      return undefined;
    }
    // setTimeout holds 2^31-1 ms at most; a later expiry re-arms on the next connection.
    const timer = setTimeout(fire, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    return timer;
  }

  private onSocketError(state: WsConnectionState, err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // ws closes the socket with 1009 itself and stops reading, so the peer's close never arrives.
      state.serverCloseCode = WS_CLOSE_CODES.messageTooBig;
      state.metrics.event(WS_EVENT_LABELS.invalid).error(WS_ERROR_CODES.payloadTooLarge);
      this.logLine('warn', state, WS_LOG_MESSAGES.payloadTooLarge, { [F.code]: WS_CLOSE_CODES.messageTooBig });
      return;
    }
    this.logLine('warn', state, WS_LOG_MESSAGES.closedForAbuse, { [F.error]: err, [F.errorCode]: err.code });
  }

  private onHandlerError(state: WsConnectionState, err: unknown, where: string): void {
    this.logLine('error', state, WS_LOG_MESSAGES.connectionHandlerFailed, { [F.error]: err, [F.hook]: where });
    if (where === 'handleConnection') state.socket.close(WS_CLOSE_CODES.internalError, 'Internal error');
  }

  private logLine(level: 'info' | 'warn' | 'error', state: WsConnectionState, msg: string, extra: Record<string, unknown>): void {
    const logger = this.log.logger;
    if (!logger.isLevelEnabled(level)) return;
    const fields = connectionLogFields(state.context);
    const spanContext = state.context.handshakeSpanContext;
    if (trace.isSpanContextValid(spanContext)) addTraceLogFields(fields, spanContext);
    else fields[F.traceId] = state.context.traceId;
    fields[F.path] = state.context.path;
    logger[level](Object.assign(fields, extra), msg);
  }

  private close(state: WsConnectionState, peerCode: number, reason: Buffer): void {
    if (state.closed) return;
    const code = state.serverCloseCode ?? peerCode;
    state.closed = true;
    const { context, metrics } = state;
    this.admission.release(context.remoteAddress);
    this.admission.releaseBucket(context.user?.id);
    const seconds = (Date.now() - context.openedAt) / 1000;
    metrics.active.dec();
    metrics.closed(code);
    metrics.connectionDuration.observe(seconds);
    this.logLine('info', state, WS_LOG_MESSAGES.disconnected, {
      [F.code]: code,
      // The reason is the peer's text: truncated and stripped of control characters.
      [F.reason]: reason.toString('utf8', 0, MAX_CLOSE_REASON).replace(/[\u0000-\u001f\u007f]/g, ''),
      [F.durationMs]: Math.round(seconds * 1000),
      [F.messagesIn]: state.messagesIn,
      [F.messagesOut]: state.messagesOut,
      [F.bytesIn]: state.bytesIn,
      [F.bytesOut]: state.bytesOut,
    });
  }
}
