import { Inject, Injectable } from '@nestjs/common';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import { isObservable } from 'rxjs';
import type { RawData } from 'ws';
import type { WsMessageContext } from '../model/ws-connection.context.js';
import type { WsConnectionState, WsHandlerEntry } from '../connection/ws-connection.state.js';
import { parseTraceparent } from '../model/trace-context.js';
import { WS_EVENT_LABELS, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { addTraceLogFields, connectionLogFields } from '../telemetry/ws-log.mixin.js';
import { MessageSpanContext } from '../telemetry/span-context.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { mapWsException, type WsMappedError } from './ws-exception.mapper.js';
import { WsFrameSender } from './ws-frame.sender.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { WS_CLOSE_CODES, WS_ERROR_CODES, type WsErrorData, type WsFrameMeta } from '../model/ws-protocol.js';

/** A message being handled: the public context plus what dispatch tracks. Internal. */
interface MessageState extends WsMessageContext {
  readonly connection: WsConnectionState;
  readonly startedAt: number;
  /** The frame text, kept only when `logPayloadMaxLength` > 0. */
  readonly payloadText: string | undefined;
  failure: WsMappedError | undefined;
}

const MAX_MESSAGE_ID = 128;
const OPEN = 1;

function readMeta(meta: unknown): { traceparent: unknown; id: string | undefined } | undefined {
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, id } = meta as Record<string, unknown>;
  const safeId = typeof id === 'string' && id.length <= MAX_MESSAGE_ID ? id : typeof id === 'number' && Number.isFinite(id) ? String(id) : undefined;
  return { traceparent, id: safeId };
}

/**
 * Wraps every handled message: one span (`process <event>`, kind CONSUMER),
 * the CLS context (connection + message) and the OTel context entered once,
 * metrics, log lines, replies with `meta.traceId`, and error frames for
 * malformed, unknown and failed messages.
 *
 * It runs at the adapter's dispatch rather than in Nest's interceptor chain:
 * entering the contexts once where the frame arrives costs a fraction of a
 * guard plus an interceptor that each wrap the handler pipeline (PERF-NOTES.md).
 */
@Injectable()
export class WsTracingInterceptor {
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly cls: ClsService,
    private readonly log: WsLogger,
    private readonly sender: WsFrameSender,
    private readonly admission: WsAdmission,
  ) {}

  /** Handles one frame from a connection. Never throws. */
  onFrame(state: WsConnectionState, data: RawData, isBinary: boolean): void {
    const size = byteLength(data);
    state.messagesIn++;
    state.bytesIn += size;
    state.alive = true;
    state.metrics.sizeIn.observe(size);
    if (state.bucket && !state.bucket.take()) return this.rateLimited(state);
    state.refusedInARow = 0;
    if (this.admission.isDraining) {
      return this.sendError(state, { code: WS_ERROR_CODES.internal, message: 'Server is shutting down', retryable: true, internal: false }, state.context.traceId, undefined);
    }
    if (isBinary) return this.refuse(state, WS_EVENT_LABELS.invalid, 'Binary frames are not supported; send JSON text', undefined);
    let frame: unknown;
    const text = data.toString();
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
    if (!entry) return this.refuse(state, WS_EVENT_LABELS.unknown, 'Unknown event', parsedMeta?.id);
    entry.metrics.received.inc();
    this.dispatch(state, entry, event, payload, parsedMeta, size, this.options.logPayloadMaxLength > 0 ? text : undefined);
  }

  private dispatch(state: WsConnectionState, entry: WsHandlerEntry, event: string, payload: unknown, meta: ReturnType<typeof readMeta>, size: number, payloadText: string | undefined): void {
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
      if (this.options.onMessageSpan) this.runSpanHook(span, event, payload, state);
    }
    const spanContext = span.spanContext();
    const valid = trace.isSpanContextValid(spanContext);
    const message: MessageState = {
      event,
      id: meta?.id,
      traceId: valid ? spanContext.traceId : state.context.traceId,
      spanId: spanContext.spanId,
      span,
      connection: state,
      startedAt: performance.now(),
      payloadText,
      failure: undefined,
    };
    const store = { [WS_CONNECTION_CONTEXT]: state.context, [WS_MESSAGE_CONTEXT]: message };
    this.admission.messageStarted();
    this.cls.runWith(store, () => otelContext.with(new MessageSpanContext(parent, span), () => void this.run(message, entry, payload)));
  }

  private async run(message: MessageState, entry: WsHandlerEntry, payload: unknown): Promise<void> {
    try {
      const result = await entry.callback(payload, message.event);
      if (isObservable(result)) {
        await result.forEach((value) => this.reply(message, value));
      } else if (result !== undefined && result !== null) {
        this.reply(message, result);
      }
    } catch (err) {
      // Reached only when an exception filter rethrows or none is bound.
      this.fail(message, err);
    } finally {
      this.finish(message, entry);
    }
  }

  /**
   * Records a failed message and sends its error frame; called by
   * {@link TracingWsExceptionFilter}. Outside a traced message (a filter bound
   * on a gateway served by another adapter) it only sends the frame.
   */
  handleException(exception: unknown, client: unknown): void {
    const message = this.cls.get(WS_MESSAGE_CONTEXT) as MessageState | undefined;
    if (message && message.connection.socket === client) return this.fail(message, exception);
    const mapped = mapWsException(exception);
    const socket = client as { readyState?: number; send?: (s: string) => void };
    if (socket.readyState === OPEN && typeof socket.send === 'function') {
      socket.send(JSON.stringify({ event: 'error', data: { code: mapped.code, message: mapped.message, retryable: mapped.retryable } }));
    }
  }

  private fail(message: MessageState, exception: unknown): void {
    if (message.failure) return;
    const mapped = mapWsException(exception);
    message.failure = mapped;
    const { span, connection } = message;
    if (span.isRecording()) {
      if (exception instanceof Error) span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.code });
    }
    connection.metrics.event(message.event).error(mapped.code);
    const logger = this.log.logger;
    const level = mapped.internal ? 'error' : 'warn';
    if (logger.isLevelEnabled(level)) {
      // The log line of a failure always carries its trace id, sampled or not.
      const fields = this.messageFields(message);
      fields[F.errorCode] = mapped.code;
      fields[F.error] = exception;
      logger[level](fields, WS_LOG_MESSAGES.messageFailed);
    }
    this.sendError(connection, mapped, message.traceId, message.id);
  }

  private finish(message: MessageState, entry: WsHandlerEntry): void {
    this.admission.messageFinished();
    message.span.end();
    const seconds = (performance.now() - message.startedAt) / 1000;
    (message.failure ? entry.metrics.durationError : entry.metrics.durationOk).observe(seconds);
    const logger = this.log.logger;
    const level = this.options.messageLogLevel;
    if (logger.isLevelEnabled(level)) {
      const fields = this.messageFields(message);
      fields[F.outcome] = message.failure ? 'error' : 'ok';
      fields[F.durationMs] = seconds * 1000;
      logger[level](fields, WS_LOG_MESSAGES.messageHandled);
    }
  }

  private reply(message: MessageState, value: unknown): void {
    const { connection } = message;
    if (connection.socket.readyState !== OPEN) return;
    let label = WS_EVENT_LABELS.other as string;
    let out = value;
    if (typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string') {
      const response = value as { event: string; data?: unknown; meta?: WsFrameMeta };
      label = response.event;
      if (this.options.propagateToClient || message.id !== undefined) {
        const meta: WsFrameMeta = { ...response.meta };
        if (message.id !== undefined) meta.id = message.id;
        if (this.options.propagateToClient) meta.traceId = message.traceId;
        out = { event: response.event, data: response.data, meta };
      }
    }
    this.sender.send(connection, JSON.stringify(out), label);
  }

  private refuse(state: WsConnectionState, label: string, text: string, id: string | undefined): void {
    const eventMetrics = state.metrics.event(label);
    eventMetrics.received.inc();
    const code = label === WS_EVENT_LABELS.unknown ? WS_ERROR_CODES.unknownEvent : WS_ERROR_CODES.badRequest;
    const logger = this.log.logger;
    if (logger.isLevelEnabled('debug')) {
      // Never the frame itself: it is the client's text.
      logger.debug({ ...connectionLogFields(state.context), [F.traceId]: state.context.traceId, [F.event]: label, [F.errorCode]: code }, WS_LOG_MESSAGES.messageRejected);
    }
    eventMetrics.error(code);
    this.sendError(state, { code, message: text, retryable: false, internal: false }, state.context.traceId, id);
    const { max, windowMs } = this.options.invalidFrames;
    if (max === 0) return;
    const now = performance.now();
    if (now - state.invalidWindowStart > windowMs) {
      state.invalidWindowStart = now;
      state.invalidCount = 0;
    }
    if (++state.invalidCount > max) this.closeForAbuse(state, WS_CLOSE_CODES.badRequest, 'Too many invalid frames', 'invalid_frames');
  }

  private rateLimited(state: WsConnectionState): void {
    state.metrics.rateLimited.inc();
    state.metrics.event(WS_EVENT_LABELS.error).error(WS_ERROR_CODES.rateLimited);
    if (++state.refusedInARow === 1) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) logger.warn({ ...connectionLogFields(state.context), [F.traceId]: state.context.traceId }, WS_LOG_MESSAGES.rateLimited);
    }
    const { closeAfterRefused } = this.options.rateLimit;
    if (closeAfterRefused > 0 && state.refusedInARow >= closeAfterRefused) {
      return this.closeForAbuse(state, WS_CLOSE_CODES.rateLimited, 'Rate limit exceeded', 'rate_limit');
    }
    this.sendError(state, { code: WS_ERROR_CODES.rateLimited, message: 'Too many messages; slow down', retryable: true, internal: false }, state.context.traceId, undefined);
  }

  private closeForAbuse(state: WsConnectionState, code: number, reason: string, why: string): void {
    if (state.socket.readyState !== OPEN) return;
    const logger = this.log.logger;
    if (logger.isLevelEnabled('warn')) {
      logger.warn({ ...connectionLogFields(state.context), [F.traceId]: state.context.traceId, [F.code]: code, [F.reason]: why }, WS_LOG_MESSAGES.closedForAbuse);
    }
    state.socket.close(code, reason);
  }

  private sendError(state: WsConnectionState, error: WsMappedError, traceId: string, id: string | undefined): void {
    const data: WsErrorData = { code: error.code, message: error.message, traceId, retryable: error.retryable };
    if (error.details !== undefined) data.details = error.details;
    const meta: WsFrameMeta = {};
    if (id !== undefined) meta.id = id;
    if (this.options.propagateToClient) meta.traceId = traceId;
    this.sender.send(state, JSON.stringify({ event: 'error', data, meta }), WS_EVENT_LABELS.error);
  }

  private runSpanHook(span: Span, event: string, data: unknown, state: WsConnectionState): void {
    try {
      this.options.onMessageSpan!(span, { event, data, connection: state.context });
    } catch (err) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) {
        logger.warn({ ...connectionLogFields(state.context), [F.event]: event, [F.hook]: 'onMessageSpan', [F.error]: err }, WS_LOG_MESSAGES.hookFailed);
      }
    }
  }

  private messageFields(message: MessageState): Record<string, unknown> {
    const fields = connectionLogFields(message.connection.context);
    fields[F.event] = message.event;
    if (message.payloadText !== undefined) fields[F.payload] = message.payloadText.slice(0, this.options.logPayloadMaxLength);
    const spanContext = message.span.spanContext();
    if (trace.isSpanContextValid(spanContext)) addTraceLogFields(fields, spanContext);
    else fields[F.traceId] = message.traceId;
    return fields;
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
