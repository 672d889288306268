import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { context as otelContext, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import { Observable, type Subscriber, type TeardownLogic } from 'rxjs';
import { sanitizeClientText } from '../model/client-text.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { WS_EVENT_LABELS, WS_LOG_FIELDS as F, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../model/tracing-ws.tokens.js';
import { currentWsStore, type WsClsStore } from '../model/ws-cls.store.js';
import type { WsMessageContext } from '../model/ws-connection.context.js';
import type { WsFrameMeta } from '../model/ws-protocol.js';
import type { WsAck, WsTransportName } from '../model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { MessageSpanContext } from '../telemetry/span-context.js';
import { chooseTraceId, messageLine, type WsLogFields } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import type { WsEventMetrics } from '../telemetry/ws.metrics.js';
import { mapWsException } from './ws-exception.mapper.js';
import { ackOf, transportOf } from './ws-foreign.client.js';
import { WsForeignConnections, type WsForeignConnection } from './ws-foreign.connections.js';
import { logMessageHandled, payloadTextOf, runMessageSpanHook } from './ws-message.telemetry.js';

/** `GATEWAY_OPTIONS` of `@nestjs/websockets` (its public entry does not export it): the options of `@WebSocketGateway`. */
const GATEWAY_OPTIONS = 'websockets:gateway_options';

/** A gateway handler, with what each of its messages needs, computed once. */
interface HandlerEntry {
  readonly gateway: object;
  readonly event: string;
  readonly spanName: string;
  readonly path: string;
}

/** A message being handled through the interceptor. Internal. */
class InterceptedMessage implements WsMessageContext {
  readonly id = undefined;
  readonly startedAt = performance.now();
  failed = false;
  finished = false;

  constructor(
    readonly event: string,
    readonly traceId: string,
    readonly spanId: string,
    readonly span: Span,
    readonly connection: WsForeignConnection,
    readonly metrics: WsEventMetrics,
    readonly client: unknown,
    readonly data: unknown,
    readonly ack: WsAck | undefined,
  ) {}
}

/**
 * Per-message tracing on any adapter, ws or socket.io, including one the
 * library does not control (a stock `WsAdapter`, a `RedisIoAdapter`): the
 * `process <event>` span (CONSUMER), the CLS context that {@link WsContextService}
 * reads, with the span active, `ws.message_handled` / `ws.message_failed` lines,
 * the message metrics, and an exception answered as the documented error (an
 * error frame to a ws client; the acknowledgement's `{ error, $meta }`, else an
 * `exception` event, to a socket.io client). The connection is made at a
 * client's first message (no handshake guard ran) and kept for its life.
 *
 * Under one of the library's adapters the message is already traced, and the
 * interceptor passes it through untouched. An exception it answers does not
 * reach exception filters; a guard's refusal, which it never sees, is recorded
 * by {@link TracingWsExceptionFilter} (`@TracedGateway()`).
 *
 * @example
 * @TracedGateway()
 * @UseInterceptors(WsTracingInterceptor)
 * @WebSocketGateway({ namespace: '/chat' })
 * export class ChatGateway {}
 */
@Injectable()
export class WsTracingInterceptor implements NestInterceptor {
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  private readonly handlers = new WeakMap<object, HandlerEntry>();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly cls: ClsService,
    private readonly log: WsLogger,
    private readonly connections: WsForeignConnections,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'ws') return next.handle();
    const store = currentWsStore(this.cls);
    if (store?.[WS_MESSAGE_CONTEXT] !== undefined) return next.handle();
    const args = context.getArgs();
    const transport = transportOf(args[0]);
    if (transport === undefined) return next.handle();
    const entry = this.entryOf(context, transport);
    const connection = this.connections.of(args[0] as object, transport, entry.path, store?.[WS_CONNECTION_CONTEXT]);
    return new Observable((subscriber) => this.handle(subscriber, next, store, connection, entry, args));
  }

  private handle(subscriber: Subscriber<unknown>, next: CallHandler, store: WsClsStore | undefined, connection: WsForeignConnection, entry: HandlerEntry, args: unknown[]): TeardownLogic {
    const byConnection = this.options.traceMode === 'connection';
    const parent = byConnection ? connection.parent : ROOT_CONTEXT;
    const span = this.tracer.startSpan(entry.spanName, { kind: SpanKind.CONSUMER, attributes: connection.spanAttributes, links: byConnection ? undefined : connection.links }, parent);
    const [client, data] = args;
    if (span.isRecording()) {
      span.setAttributes(connection.recordedAttributes);
      span.setAttribute(A.messagingDestinationName, entry.event);
      if (this.options.onMessageSpan) runMessageSpanHook(this.options.onMessageSpan, this.log.logger, span, entry.event, data, connection.context);
    }
    const spanContext = span.spanContext();
    const traceId = chooseTraceId(spanContext, undefined, connection.context);
    const message = new InterceptedMessage(entry.event, traceId, spanContext.spanId, span, connection, connection.metrics.event(entry.event), client, data, ackOf(connection.transport, args));
    message.metrics.received.inc();
    // The app's own CLS values (a ClsGuard's, say) stay readable beside the library's.
    const messageStore: WsClsStore = { ...store, [WS_CONNECTION_CONTEXT]: connection.context, [WS_MESSAGE_CONTEXT]: message };
    const subscription = this.cls.runWith(messageStore, () =>
      otelContext.with(new MessageSpanContext(parent, span), () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(this.reply(message, value)),
          error: (err: unknown) => {
            this.fail(message, err);
            this.finish(message);
            subscriber.complete();
          },
          complete: () => {
            this.finish(message);
            subscriber.complete();
          },
        }),
      ),
    );
    // Also when the adapter unsubscribes first (the client left mid-handler).
    return () => {
      subscription.unsubscribe();
      this.finish(message);
    };
  }

  /** Counts a reply, and gives a ws reply `meta.traceId` as the library's adapters do. */
  private reply(message: InterceptedMessage, value: unknown): unknown {
    if (value === undefined || value === null) return value;
    const event = typeof value === 'object' && typeof (value as { event?: unknown }).event === 'string' ? (value as { event: string }).event : undefined;
    const { connection } = message;
    // A socket.io value that is neither an event nor an acknowledgement is sent nowhere.
    if (event === undefined && connection.transport === 'socket.io' && message.ack === undefined) return value;
    connection.metrics.event(event ?? WS_EVENT_LABELS.other).sent.inc();
    if (event === undefined || connection.transport !== 'ws' || !this.options.propagateToClient) return value;
    const response = value as { event: string; data?: unknown; meta?: WsFrameMeta };
    return { event, data: response.data, meta: { ...response.meta, traceId: message.traceId } };
  }

  private fail(message: InterceptedMessage, exception: unknown): void {
    const mapped = mapWsException(exception);
    message.failed = true;
    const { span } = message;
    if (span.isRecording()) {
      if (exception instanceof Error) span.recordException(exception);
      span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.code });
      span.setAttribute(A.errorType, mapped.code);
    }
    this.connections.failed(mapped, exception, {
      connection: message.connection,
      client: message.client,
      event: message.event,
      traceId: message.traceId,
      ack: message.ack,
      fields: () => this.messageFields(message),
    });
  }

  private finish(message: InterceptedMessage): void {
    if (message.finished) return;
    message.finished = true;
    message.span.end();
    const seconds = (performance.now() - message.startedAt) / 1000;
    message.metrics.handled(seconds, message.failed, message.span.spanContext());
    logMessageHandled(this.log.logger, this.options.messageLogLevel, () => this.messageFields(message), message.failed, seconds);
  }

  private messageFields(message: InterceptedMessage): WsLogFields {
    const fields = messageLine(message.connection.context, message);
    const max = this.options.logPayloadMaxLength;
    if (max > 0) {
      // The adapter has already parsed the frame: the data is logged as JSON.
      const text = payloadTextOf(message.data);
      if (text !== undefined) fields[F.payload] = sanitizeClientText(text, max);
    }
    return fields;
  }

  private entryOf(context: ExecutionContext, transport: WsTransportName): HandlerEntry {
    const handler = context.getHandler();
    const gateway = context.getClass();
    let entry = this.handlers.get(handler);
    // A handler inherited by two gateways is one function: the entry is its last gateway's.
    if (entry === undefined || entry.gateway !== gateway) {
      const event = String(context.switchToWs().getPattern());
      entry = { gateway, event, spanName: `process ${event}`, path: gatewayPath(gateway, transport) };
      this.handlers.set(handler, entry);
    }
    return entry;
  }
}

/**
 * The `path` label of a gateway: its `path` option (ws) or string `namespace`
 * (socket.io), with one leading slash and none trailing; `/` for any other
 * (a RegExp namespace names no one series).
 */
function gatewayPath(gateway: object, transport: WsTransportName): string {
  const options = Reflect.getMetadata(GATEWAY_OPTIONS, gateway) as { path?: unknown; namespace?: unknown } | undefined;
  const value = transport === 'ws' ? options?.path : options?.namespace;
  if (typeof value !== 'string' || value === '') return '/';
  const withSlash = value.startsWith('/') ? value : `/${value}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}
