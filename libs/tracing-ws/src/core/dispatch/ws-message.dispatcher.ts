import { Inject, Injectable } from '@nestjs/common';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import { isObservable } from 'rxjs';
import { getConnectionState, type WsConnectionState, type WsHandlerEntry } from '../connection/ws-connection.state.js';
import { sanitizeClientText } from '../model/client-text.js';
import { parseTraceparent } from '../model/trace-context.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { WS_EVENT_LABELS, WS_LIVE_EVENT_TYPES as LIVE, WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../model/tracing-ws.tokens.js';
import { currentWsStore, type WsClsStore } from '../model/ws-cls.store.js';
import type { WsMessageContext } from '../model/ws-connection.context.js';
import { readRoomPosition, WS_CLIENT_REPORT_EVENT, WS_ERROR_CODES, type WsFrameMeta, type WsRoomPosition } from '../model/ws-protocol.js';
import type { WsAck } from '../model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WsAbusePolicy } from '../policy/ws-abuse.policy.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { MessageSpanContext } from '../telemetry/span-context.js';
import { chooseTraceId, connectionLine, messageLine } from '../telemetry/ws-log.fields.js';
import { WsLiveTap } from '../telemetry/ws-live.tap.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsClientReports } from './ws-client.reports.js';
import { errorData, mapWsException, type WsMappedError } from './ws-exception.mapper.js';
import { WsForeignConnections } from './ws-foreign.connections.js';
import { WsFrameSender } from './ws-frame.sender.js';
import { logMessageFailed, logMessageHandled, payloadTextOf, runMessageSpanHook } from './ws-message.telemetry.js';

/** A message being handled: the public context plus what dispatch tracks. Internal. */
class InFlightMessage implements WsMessageContext {
  failure: WsMappedError | undefined = undefined;
  readonly startedAt = performance.now();
  /** The decoded payload, kept only while a live watch may want it (the tap was hot at dispatch). */
  livePayload: unknown = undefined;
  /** The frame's size in bytes, for the live trace. */
  size = 0;

  constructor(
    readonly event: string,
    readonly id: string | undefined,
    readonly traceId: string,
    readonly spanId: string,
    readonly span: Span,
    readonly connection: WsConnectionState,
    /** The frame text, kept only when `logPayloadMaxLength` > 0. */
    readonly payloadText: string | undefined,
    /** The acknowledgement the client asked for (socket.io), if any. */
    readonly ack: WsAck | undefined,
    readonly recover: WsRoomPosition | undefined,
  ) {}
}

/** A text frame as a transport holds it (a Buffer, a string): decoded by `toString()`. */
export interface WsTextFrame {
  toString(): string;
}

/** What a frame's `meta` may carry, validated. */
interface FrameMeta {
  readonly traceparent: unknown;
  readonly id: string | undefined;
  readonly recover: WsRoomPosition | undefined;
}

/** A frame the library handles itself (not a gateway handler): the room recovery requests. */
export type WsLibraryEventHandler = (state: WsConnectionState, data: unknown) => void;

const MAX_MESSAGE_ID = 128;
const NO_ACK = Object.freeze({ passed: false, handledManually: false });

function readMeta(meta: unknown): FrameMeta | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, id, recover } = meta as Record<string, unknown>;
  const safeId = typeof id === 'string' && id.length <= MAX_MESSAGE_ID ? id : typeof id === 'number' && Number.isFinite(id) ? String(id) : undefined;
  return { traceparent, id: safeId, recover: recover === undefined ? undefined : readRoomPosition(recover) };
}

/**
 * Handles every frame a transport receives: admission (rate limit, drain),
 * decoding of the `{event, data, meta}` JSON frame, then for a registered event
 * one span (`process <event>`, kind CONSUMER), the CLS context (connection +
 * message) and the OTel context entered once, metrics, log lines, replies with
 * `meta.traceId`, and error frames for malformed, unknown and failed messages.
 *
 * It runs at the adapter's dispatch rather than in Nest's interceptor chain:
 * entering the contexts once where the frame arrives costs a fraction of a
 * guard plus an interceptor that each wrap the handler pipeline.
 */
@Injectable()
export class WsMessageDispatcher {
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  private readonly libraryEvents = new Map<string, WsLibraryEventHandler>();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly cls: ClsService,
    private readonly log: WsLogger,
    private readonly sender: WsFrameSender,
    private readonly admission: WsAdmission,
    private readonly abuse: WsAbusePolicy,
    private readonly foreign: WsForeignConnections,
    private readonly tap: WsLiveTap,
    private readonly reports: WsClientReports,
  ) {}

  /**
   * Registers the gateway handler of `event` on a connection. `ack` says how the
   * transport's handlers are called: with the acknowledgement callback as second
   * argument (socket.io) or the event name (ws); `ackHandledManually` that the
   * handler acknowledges itself (`@Ack()`), so its result is not sent as the ack.
   */
  register(state: WsConnectionState, event: string, callback: WsHandlerEntry['callback'], ack: { passed: boolean; handledManually: boolean } = NO_ACK): void {
    state.handlers.set(event, {
      callback,
      spanName: `process ${event}`,
      metrics: state.metrics.event(event),
      passesAck: ack.passed,
      ackHandledManually: ack.handledManually,
    });
  }

  /**
   * Makes `event` a frame the library answers itself on every connection (admitted and
   * rate-limited like any frame, but no gateway handler, span or reply): the broadcaster's
   * recovery requests. Internal.
   */
  handleLibraryEvent(event: string, handler: WsLibraryEventHandler): void {
    this.libraryEvents.set(event, handler);
  }

  /**
   * Handles one frame of `size` bytes: `content` is its text, decoded only once
   * the frame is admitted, or `undefined` for a binary frame (refused: the
   * protocol is JSON text). Never throws.
   */
  receive(state: WsConnectionState, content: WsTextFrame | undefined, size: number): void {
    if (!this.admit(state, size, undefined)) return;
    if (content === undefined) return this.refuse(state, WS_EVENT_LABELS.invalid, 'Binary frames are not supported; send JSON text', undefined);
    const text = content.toString();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.refuse(state, WS_EVENT_LABELS.invalid, 'Frame is not valid JSON', undefined);
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { event?: unknown }).event !== 'string') {
      return this.refuse(state, WS_EVENT_LABELS.invalid, 'Frame must be a JSON object with a string "event"', undefined);
    }
    const { event, data: payload, meta } = frame as { event: string; data?: unknown; meta?: unknown };
    const entry = state.handlers.get(event);
    const parsedMeta = readMeta(meta);
    if (!entry) {
      // The library's own events, looked at only when no handler has the name: no cost per handled frame.
      if (event === WS_CLIENT_REPORT_EVENT) return this.clientReport(state, payload, size, parsedMeta?.id, undefined);
      const own = this.libraryEvents.get(event);
      if (own) return own(state, payload);
      return this.refuse(state, WS_EVENT_LABELS.unknown, 'Unknown event', parsedMeta?.id);
    }
    entry.metrics.received.inc();
    this.dispatch(state, entry, event, payload, parsedMeta, size, this.options.logPayloadMaxLength > 0 ? text : undefined, undefined);
  }

  /**
   * Handles one event that the transport decoded itself (socket.io): `data` as the
   * handler receives it, `meta` what the client sent as the message's meta
   * (`traceparent`, `id`; validated here), `ack` the acknowledgement callback when
   * the client asked for one, `size` the packet's bytes. Never throws.
   */
  receiveEvent(state: WsConnectionState, event: string, data: unknown, rawMeta: unknown, ack: WsAck | undefined, size: number): void {
    if (!this.admit(state, size, ack)) return;
    const meta = readMeta(rawMeta);
    const entry = state.handlers.get(event);
    if (!entry) {
      if (event === WS_CLIENT_REPORT_EVENT) return this.clientReport(state, data, size, meta?.id, ack);
      const own = this.libraryEvents.get(event);
      if (own) return own(state, data);
      return this.refuse(state, WS_EVENT_LABELS.unknown, 'Unknown event', meta?.id, ack);
    }
    entry.metrics.received.inc();
    this.dispatch(state, entry, event, data, meta, size, this.options.logPayloadMaxLength > 0 ? payloadTextOf(data) : undefined, ack);
  }

  /** Counts an incoming frame and applies the rate limit and the drain; false when it must not be handled. */
  private admit(state: WsConnectionState, size: number, ack: WsAck | undefined): boolean {
    // The server is closing this connection (ws keeps emitting frames while CLOSING): nothing more is handled.
    if (state.closedBy !== undefined) return false;
    state.messagesIn++;
    state.bytesIn += size;
    state.alive = true;
    state.metrics.sizeIn.observe(size);
    if (!this.abuse.admit(state)) {
      if (this.tap.hot) this.tap.emit(state.context, LIVE.rateLimited, { [LF.size]: size });
      if (!this.abuse.rateLimited(state)) {
        this.sendError(state, { code: WS_ERROR_CODES.rateLimited, message: 'Too many messages; slow down', retryable: true, internal: false }, state.context.traceId, undefined, ack);
      }
      return false;
    }
    if (this.admission.isDraining) {
      this.sendError(state, { code: WS_ERROR_CODES.internal, message: 'Server is shutting down', retryable: true, internal: false }, state.context.traceId, undefined, ack);
      return false;
    }
    return true;
  }

  /**
   * Records a failed message and sends its error frame; called by
   * {@link TracingWsExceptionFilter} with the handler's `args`. Outside a traced
   * message, a client of another adapter (a guard's refusal, before
   * `WsTracingInterceptor` runs) is recorded and answered on its own connection;
   * a connection of ours is reported as its connection hook's failure.
   */
  handleException(exception: unknown, client: unknown, args: readonly unknown[]): void {
    const message = currentWsStore(this.cls)?.[WS_MESSAGE_CONTEXT];
    if (message instanceof InFlightMessage && message.connection.transport.client === client) return this.fail(message, exception);
    const state = getConnectionState(client);
    if (state) {
      // Outside a message, a connection of ours reaches a filter only from a connection
      // hook of a request-scoped gateway whose instance could not be built (Nest catches
      // that itself): a failed handleConnection (1011), or handleDisconnect once closed.
      state.reportHookError(exception, state.closed ? 'handleDisconnect' : 'handleConnection');
      return;
    }
    this.foreign.failedUntraced(exception, client, args);
  }

  private dispatch(state: WsConnectionState, entry: WsHandlerEntry, event: string, payload: unknown, meta: FrameMeta | undefined, size: number, payloadText: string | undefined, ack: WsAck | undefined): void {
    let parent: Context = ROOT_CONTEXT;
    let links: Link[] | undefined;
    if (this.options.traceMode === 'connection') {
      parent = state.handshakeContext;
    } else {
      const incoming = meta?.traceparent === undefined ? undefined : parseTraceparent(meta.traceparent);
      if (incoming) {
        parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: incoming.traceId, spanId: incoming.spanId!, traceFlags: incoming.traceFlags, isRemote: true });
      } else {
        links = state.handshakeLinks;
      }
    }
    const span = this.tracer.startSpan(entry.spanName, { kind: SpanKind.CONSUMER, attributes: state.spanAttributes, links }, parent);
    if (span.isRecording()) {
      span.setAttributes(state.recordedAttributes);
      span.setAttribute(A.messagingDestinationName, event);
      span.setAttribute(A.messagingMessageBodySize, size);
      if (meta?.id !== undefined) span.setAttribute(A.messagingMessageId, meta.id);
      if (this.options.onMessageSpan) runMessageSpanHook(this.options.onMessageSpan, this.log.logger, span, event, payload, state.context);
    }
    const spanContext = span.spanContext();
    const message = new InFlightMessage(event, meta?.id, chooseTraceId(spanContext, undefined, state.context), spanContext.spanId, span, state, payloadText, ack, meta?.recover);
    if (this.tap.hot) {
      message.livePayload = payload;
      message.size = size;
    }
    const store: WsClsStore = { [WS_CONNECTION_CONTEXT]: state.context, [WS_MESSAGE_CONTEXT]: message };
    this.admission.messageStarted();
    this.cls.runWith(store, () => otelContext.with(new MessageSpanContext(parent, span), () => void this.run(message, entry, payload)));
  }

  private async run(message: InFlightMessage, entry: WsHandlerEntry, payload: unknown): Promise<void> {
    try {
      const result = await entry.callback(payload, entry.passesAck ? message.ack : message.event);
      if (isObservable(result)) {
        await result.forEach((value) => this.reply(message, entry, value));
      } else if (result !== undefined && result !== null) {
        this.reply(message, entry, result);
      }
    } catch (err) {
      // Reached only when an exception filter rethrows or none is bound.
      this.fail(message, err);
    } finally {
      this.finish(message, entry);
    }
  }

  private fail(message: InFlightMessage, exception: unknown): void {
    if (message.failure) return;
    const mapped = mapWsException(exception);
    message.failure = mapped;
    const { span, connection } = message;
    if (span.isRecording()) {
      if (exception instanceof Error) span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.code });
      span.setAttribute(A.errorType, mapped.code);
    }
    connection.metrics.event(message.event).error(mapped.code);
    if (this.tap.hot) this.tap.emit(connection.context, LIVE.error, { [F.event]: message.event, [F.errorCode]: mapped.code, [F.traceId]: message.traceId });
    logMessageFailed(this.log.logger, mapped, exception, () => this.messageFields(message));
    this.sendError(connection, mapped, message.traceId, message.id, message.ack);
  }

  private finish(message: InFlightMessage, entry: WsHandlerEntry): void {
    this.admission.messageFinished();
    message.span.end();
    const seconds = (performance.now() - message.startedAt) / 1000;
    entry.metrics.handled(seconds, message.failure !== undefined, message.span.spanContext());
    if (this.tap.hot) return this.finishWatched(message, seconds);
    logMessageHandled(this.log.logger, this.options.messageLogLevel, () => this.messageFields(message), message.failure !== undefined, seconds);
  }

  /** The end of a message while something is watched or debugged: its live event, and its line at a debug session's level. */
  private finishWatched(message: InFlightMessage, seconds: number): void {
    const failed = message.failure !== undefined;
    const { context } = message.connection;
    this.tap.emit(context, LIVE.message, {
      [F.event]: message.event,
      [LF.size]: message.size,
      [F.traceId]: message.traceId,
      [F.durationMs]: seconds * 1000,
      [F.outcome]: failed ? 'error' : 'ok',
      ...(failed ? { [F.errorCode]: message.failure!.code } : {}),
    }, message.livePayload);
    const raised = this.tap.debugLevel(context);
    const fields = raised === undefined ? () => this.messageFields(message) : () => ({ ...this.messageFields(message), [F.debugSession]: true });
    logMessageHandled(this.log.logger, raised ?? this.options.messageLogLevel, fields, failed, seconds);
  }

  /** A client's report after an outage (the library's reserved event): logged, counted, shown to watches; a bad one is refused. */
  private clientReport(state: WsConnectionState, data: unknown, size: number, id: string | undefined, ack: WsAck | undefined): void {
    const report = this.reports.receive(state, data, size);
    if (report === undefined) {
      this.sendError(state, { code: WS_ERROR_CODES.badRequest, message: 'Invalid client report', retryable: false, internal: false }, state.context.traceId, id, ack);
      this.abuse.invalidFrame(state);
      return;
    }
    if (this.tap.hot) this.tap.emit(state.context, LIVE.clientReport, report);
    ack?.({ ok: true });
  }

  /**
   * Sends one result of a handler: `{event, data}` as an event (label: that
   * event), anything else as the reply to the message (label: the message's
   * event; on socket.io, the acknowledgement). `meta` gets the message id and,
   * with `propagateToClient`, the trace id.
   */
  private reply(message: InFlightMessage, entry: WsHandlerEntry, value: unknown): void {
    const { connection } = message;
    if (!connection.transport.isOpen) return;
    const addMeta = this.options.propagateToClient || message.id !== undefined;
    if (typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string') {
      const response = value as { event: string; data?: unknown; meta?: WsFrameMeta };
      if (!addMeta) {
        // Nothing to add: the result goes out exactly as the handler returned it.
        this.sender.send(connection, { kind: 'event', event: response.event, data: response.data, meta: response.meta, text: JSON.stringify(value) }, response.event);
        return;
      }
      this.sender.send(connection, { kind: 'event', event: response.event, data: response.data, meta: this.replyMeta(message, response.meta) }, response.event);
      return;
    }
    const ack = entry.ackHandledManually ? undefined : message.ack;
    this.sender.send(connection, { kind: 'reply', value, meta: addMeta ? this.replyMeta(message, undefined) : undefined, ack }, message.event);
  }

  private replyMeta(message: InFlightMessage, own: WsFrameMeta | undefined): WsFrameMeta {
    const meta: WsFrameMeta = { ...own };
    if (message.id !== undefined) meta.id = message.id;
    if (this.options.propagateToClient) meta.traceId = message.traceId;
    return meta;
  }

  /** Answers a malformed or unknown frame with an error frame; the abuse policy counts it. */
  private refuse(state: WsConnectionState, label: string, text: string, id: string | undefined, ack?: WsAck): void {
    const eventMetrics = state.metrics.event(label);
    eventMetrics.received.inc();
    const code = label === WS_EVENT_LABELS.unknown ? WS_ERROR_CODES.unknownEvent : WS_ERROR_CODES.badRequest;
    const logger = this.log.logger;
    const level = this.tap.hot ? (this.tap.debugLevel(state.context) ?? 'debug') : 'debug';
    if (logger.isLevelEnabled(level)) {
      // Never the frame itself: it is the client's text.
      const fields = connectionLine(state.context);
      fields[F.event] = label;
      fields[F.errorCode] = code;
      if (level !== 'debug') fields[F.debugSession] = true;
      logger[level](fields, WS_LOG_MESSAGES.messageRejected);
    }
    if (this.tap.hot) this.tap.emit(state.context, LIVE.rejected, { [F.event]: label, [F.errorCode]: code });
    eventMetrics.error(code);
    this.sendError(state, { code, message: text, retryable: false, internal: false }, state.context.traceId, id, ack);
    this.abuse.invalidFrame(state);
  }

  private sendError(state: WsConnectionState, error: WsMappedError, traceId: string, id: string | undefined, ack: WsAck | undefined): void {
    const data = errorData(error, traceId);
    state.lastErrorCode = error.code;
    const meta: WsFrameMeta = {};
    if (id !== undefined) meta.id = id;
    if (this.options.propagateToClient) meta.traceId = traceId;
    this.sender.send(state, { kind: 'error', data, meta, ack }, WS_EVENT_LABELS.error);
  }

  private messageFields(message: InFlightMessage): Record<string, unknown> {
    const fields = messageLine(message.connection.context, message);
    // The client's text: bounded and stripped of controls like every client string in a line.
    if (message.payloadText !== undefined) fields[F.payload] = sanitizeClientText(message.payloadText, this.options.logPayloadMaxLength);
    return fields;
  }
}
