import { Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { WsBroadcaster } from '../broadcast/ws.broadcaster.js';
import { closeConnection, recordClose } from '../connection/ws-connection.close.js';
import { setConnectionState, type WsConnectionState } from '../connection/ws-connection.state.js';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import type { WsAcceptedHandshake } from '../handshake/ws-handshake.outcome.js';
import { sanitizeClientText } from '../model/client-text.js';
import { WS_CONNECTION_CONTEXT } from '../model/tracing-ws.constants.js';
import { TRACER_NAME } from '../model/tracing-ws.tokens.js';
import { WS_EVENT_LABELS, WS_LINK_TYPES, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import type { WsConnectionContext, WsUserFields } from '../model/ws-connection.context.js';
import { WS_CLOSE_CODES, WS_ERROR_CODES, type WsCloseInitiator } from '../model/ws-protocol.js';
import { WS_MESSAGING_SYSTEMS, WS_NETWORK_PROTOCOLS, type WsTransportConnection } from '../model/ws-transport.js';
import { WsAbusePolicy } from '../policy/ws-abuse.policy.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';
import { connectionLine, type WsLogFields } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import { armExpiry } from './expiry-timer.js';

/** Marks a link to the handshake span, for `WsSessionSampler`. */
const HANDSHAKE_LINK_ATTRIBUTES = Object.freeze({ [A.linkType]: WS_LINK_TYPES.handshake });

/** Longest close reason a peer may send (RFC 6455: 123 bytes). */
const MAX_CLOSE_REASON = 123;

/**
 * Opens and closes connections, whatever the transport: the connection's
 * context and state, the gauge and counters, rooms, credential expiry, and the
 * lifecycle log lines. Transports report what happens to their sockets here.
 */
@Injectable()
export class WsConnectionLifecycle {
  /** Connections being closed by a shutdown, and who waits for each. */
  private readonly closing = new Map<WsConnectionState, () => void>();
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);

  constructor(
    private readonly guard: WsHandshakeGuard,
    private readonly metrics: WsMetrics,
    private readonly log: WsLogger,
    private readonly broadcaster: WsBroadcaster,
    private readonly admission: WsAdmission,
    private readonly abuse: WsAbusePolicy,
    private readonly backpressure: WsBackpressure,
  ) {}

  /** Called when the transport has accepted the connection: turns the handshake into its state. */
  open(transport: WsTransportConnection, handshake: WsAcceptedHandshake): WsConnectionState {
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
      transport: handshake.transport,
      openedAt: Date.now(),
    });
    const gateway = this.metrics.gateway(handshake.path, handshake.transport);
    const state: WsConnectionState = {
      transport,
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
        [A.messagingSystem]: WS_MESSAGING_SYSTEMS[handshake.transport],
        [A.messagingOperationType]: 'process',
        [A.messagingOperationName]: 'process',
        [A.messagingClientId]: context.connectionId,
        [A.networkProtocolName]: WS_NETWORK_PROTOCOLS[handshake.transport],
        [A.networkTransport]: 'tcp',
        ...(handshake.peer.address ? { [A.networkPeerAddress]: handshake.peer.address } : {}),
        ...(handshake.peer.port !== undefined ? { [A.networkPeerPort]: handshake.peer.port } : {}),
        [A.connectionId]: context.connectionId,
        [A.connectionTraceId]: context.traceId,
        [A.path]: context.path,
      }),
      handshakeLinks: trace.isSpanContextValid(handshakeSpanContext) ? [{ context: handshakeSpanContext, attributes: HANDSHAKE_LINK_ATTRIBUTES }] : undefined,
      store: { [WS_CONNECTION_CONTEXT]: context },
      reportHookError: (err, hook) => this.hookFailed(state, err, hook),
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
      closedBy: undefined,
      corked: false,
      cancelExpiry: undefined,
    };
    setConnectionState(transport.client, state);
    this.broadcaster.track(state);
    gateway.active.inc();
    gateway.opened.inc();
    this.logLine('info', state, WS_LOG_MESSAGES.connected, {
      [F.remoteAddress]: context.remoteAddress,
      [F.origin]: context.origin,
      [F.userAgent]: context.userAgent,
    });
    this.scheduleExpiry(state);
    return state;
  }

  /** The peer answered a heartbeat probe. */
  heard(state: WsConnectionState): void {
    state.alive = true;
  }

  /**
   * The peer sent a ping: whether the transport should answer it. A ping costs
   * the same budget as a message (the rate limit, and its closing of a flooder
   * with 4429), and gets no pong while the peer's send buffer is over the
   * backpressure threshold: a client that floods pings and never reads cannot
   * make the server hold its pongs.
   */
  pinged(state: WsConnectionState): boolean {
    state.alive = true;
    if (state.closedBy !== undefined) return false;
    if (!this.abuse.admit(state)) {
      this.abuse.rateLimited(state);
      return false;
    }
    return !this.backpressure.congested(state);
  }

  /** The transport refused a frame over `maxPayloadBytes` and closes with 1009 itself (the peer's close never arrives). */
  payloadTooLarge(state: WsConnectionState): void {
    recordClose(state, WS_CLOSE_CODES.messageTooBig, 'policy');
    state.metrics.event(WS_EVENT_LABELS.invalid).error(WS_ERROR_CODES.payloadTooLarge);
    this.logLine('warn', state, WS_LOG_MESSAGES.payloadTooLarge, { [F.code]: WS_CLOSE_CODES.messageTooBig });
  }

  /**
   * The peer broke the transport's protocol and the transport closes the connection
   * with `code` (ws: 1002, or 1007 for invalid UTF-8): that code is recorded. The
   * line names the error without a stack: a broken peer is not a server fault.
   */
  protocolError(state: WsConnectionState, err: Error & { code?: string }, code: number): void {
    recordClose(state, code, 'policy');
    this.logLine('warn', state, WS_LOG_MESSAGES.closedForAbuse, { [F.code]: code, [F.reason]: 'protocol_error', [F.errorCode]: err.code, [F.errorMessage]: err.message });
  }

  /** The connection is gone: `peerCode` and `reason` as the transport saw them. Idempotent. */
  closed(state: WsConnectionState, peerCode: number, reason: string): void {
    if (state.closed) return;
    const code = state.serverCloseCode ?? peerCode;
    const closedBy: WsCloseInitiator = state.closedBy ?? (code === 1006 ? 'network' : 'client');
    state.closed = true;
    state.cancelExpiry?.();
    const { context, metrics } = state;
    this.broadcaster.untrack(state);
    this.admission.release(context.remoteAddress);
    this.admission.releaseBucket(context.user?.id);
    const seconds = (Date.now() - context.openedAt) / 1000;
    metrics.active.dec();
    metrics.closed(code);
    metrics.connectionDuration.observe(seconds);
    // The reason is the peer's text: truncated and stripped of control characters.
    const safeReason = sanitizeClientText(reason, MAX_CLOSE_REASON) ?? '';
    this.recordCloseSpan(state, code, safeReason, closedBy, seconds);
    this.logLine('info', state, WS_LOG_MESSAGES.disconnected, {
      [F.code]: code,
      [F.closedBy]: closedBy,
      [F.reason]: safeReason,
      [F.durationMs]: Math.round(seconds * 1000),
      [F.messagesIn]: state.messagesIn,
      [F.messagesOut]: state.messagesOut,
      [F.bytesIn]: state.bytesIn,
      [F.bytesOut]: state.bytesOut,
    });
    this.closing.get(state)?.();
  }

  /**
   * Graceful shutdown of one gateway's connections: new frames are answered
   * with an error while in-flight handlers finish (their replies go out), then
   * every connection gets 1001; whoever has not closed by `deadline` (ms since
   * the epoch) is terminated.
   */
  async shutdown(states: readonly WsConnectionState[], path: string, deadline: number): Promise<void> {
    const log = this.log.logger;
    if (log.isLevelEnabled('info')) log.info({ [F.path]: path, [F.clients]: states.length }, WS_LOG_MESSAGES.shutdown);
    await this.admission.drain(Math.max(0, deadline - Date.now()));
    const closed = states.map((state) => new Promise<void>((resolve) => {
      if (state.closed) return resolve();
      this.closing.set(state, resolve);
      // No grace timer of its own: the deadline below terminates whoever is left.
      closeConnection(state, WS_CLOSE_CODES.goingAway, 'Server shutting down', 'shutdown', { graceMs: 0 });
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    for (const state of states) {
      this.closing.delete(state);
      if (!state.closed) state.transport.terminate();
    }
  }

  /**
   * How the session ended, on the handshake's trace: a `close` span, child of and
   * linked to the handshake span (which ended at the 101), so that a tracing
   * backend can find, say, sessions closed with 1006 after less than 10 s. It
   * follows the handshake's sampling decision.
   */
  private recordCloseSpan(state: WsConnectionState, code: number, reason: string, closedBy: WsCloseInitiator, seconds: number): void {
    const handshake = state.context.handshakeSpanContext;
    if (!trace.isSpanContextValid(handshake)) return;
    const span = this.tracer.startSpan('close', { kind: SpanKind.INTERNAL, links: state.handshakeLinks }, state.handshakeContext);
    if (span.isRecording()) {
      span.setAttributes(state.recordedAttributes);
      span.setAttributes({
        ...state.spanAttributes,
        [A.closeCode]: code,
        [A.closeReason]: reason,
        [A.closeInitiator]: closedBy,
        [A.sessionDuration]: seconds,
        [A.sessionMessagesIn]: state.messagesIn,
        [A.sessionMessagesOut]: state.messagesOut,
        [A.sessionBytesIn]: state.bytesIn,
        [A.sessionBytesOut]: state.bytesOut,
      });
    }
    span.end();
  }

  private hookFailed(state: WsConnectionState, err: unknown, hook: 'handleConnection' | 'handleDisconnect'): void {
    this.logLine('error', state, WS_LOG_MESSAGES.connectionHandlerFailed, { [F.error]: err, [F.hook]: hook });
    if (hook === 'handleConnection') closeConnection(state, WS_CLOSE_CODES.internalError, 'Internal error', 'server');
  }

  /** Closes the connection with 4401 when the user's credential expires. */
  private scheduleExpiry(state: WsConnectionState): void {
    // Read through the fields the library needs, whatever the application's user type.
    const user: WsUserFields | undefined = state.context.user;
    const expiresAt = user?.expiresAt;
    const at = expiresAt instanceof Date ? expiresAt.getTime() : typeof expiresAt === 'number' ? expiresAt : undefined;
    if (at === undefined || !Number.isFinite(at)) return;
    state.cancelExpiry = armExpiry(at, () => {
      if (state.closed) return;
      this.logLine('info', state, WS_LOG_MESSAGES.authExpired, {});
      closeConnection(state, WS_CLOSE_CODES.unauthorized, 'Authentication expired', 'auth_expiry');
    });
  }

  private logLine(level: 'info' | 'warn' | 'error', state: WsConnectionState, msg: string, extra: WsLogFields): void {
    const logger = this.log.logger;
    if (!logger.isLevelEnabled(level)) return;
    logger[level](Object.assign(connectionLine(state.context), extra), msg);
  }
}
