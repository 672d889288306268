import { Inject, Injectable } from '@nestjs/common';
import { INVALID_SPAN_CONTEXT, ROOT_CONTEXT, trace, type Attributes, type Context, type Link, type SpanContext } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { generateTraceId } from '../model/trace-context.js';
import { WS_EVENT_LABELS, WS_LOG_FIELDS as F, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import type { WsFrameMeta } from '../model/ws-protocol.js';
import { WS_MESSAGING_SYSTEMS, type WsAck, type WsTransportName } from '../model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { connectionLine, type WsLogFields } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsMetrics, type WsGatewayMetrics } from '../telemetry/ws.metrics.js';
import { errorData, mapWsException, type WsMappedError } from './ws-exception.mapper.js';
import { ackOf, foreignHandshake, transportOf, sendForeignError } from './ws-foreign.client.js';
import { logMessageFailed } from './ws-message.telemetry.js';

/** The gateway path of a client whose gateway is not known yet (see {@link WsForeignConnections.of}). */
const UNKNOWN_PATH = '/';

/**
 * What the library keeps about a client of an adapter it does not control,
 * from the client's first message on: no handshake guard ran, so its context
 * is made here. Internal.
 */
export interface WsForeignConnection {
  readonly transport: WsTransportName;
  /** Replaced once, when the gateway's path becomes known. */
  context: WsConnectionContext;
  metrics: WsGatewayMetrics;
  pathKnown: boolean;
  /** Parent of message spans in trace mode `connection`: the client's traceparent, else none. */
  readonly parent: Context;
  /** Links of message spans in trace mode `message`: to the client's traceparent, if any. */
  readonly links: Link[] | undefined;
  /** Attributes every message span starts with (what a sampler may decide on). */
  readonly spanAttributes: Attributes;
  /** Attributes set on recording message spans only. */
  readonly recordedAttributes: Attributes;
}

/** A failed message as it is recorded and answered. */
export interface WsForeignFailure {
  readonly connection: WsForeignConnection;
  readonly client: unknown;
  readonly event: string;
  readonly traceId: string;
  readonly ack: WsAck | undefined;
  /** The fields of its `ws.message_failed` line, built only when that line is written. */
  readonly fields: () => WsLogFields;
}

/**
 * The connections of clients served by another adapter (a stock `WsAdapter`,
 * an `IoAdapter` subclass): made lazily at a client's first message and kept
 * in a WeakMap keyed by the client object, so every message of one client
 * carries the same `connection_id`, and gone with the client.
 */
@Injectable()
export class WsForeignConnections {
  private readonly connections = new WeakMap<object, WsForeignConnection>();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly metrics: WsMetrics,
    private readonly log: WsLogger,
  ) {}

  /**
   * The connection of `client`, made at its first sight. `path` is the
   * gateway's path when the caller knows it (a filter does not: the path is `/`
   * until an interceptor learns it); `known` is a connection context already in
   * the CLS store, which then stands for the client.
   */
  of(client: object, transport: WsTransportName, path: string | undefined, known: WsConnectionContext | undefined): WsForeignConnection {
    let connection = this.connections.get(client);
    if (connection === undefined) {
      connection = this.create(client, transport, path, known);
      this.connections.set(client, connection);
    } else if (!connection.pathKnown && path !== undefined) {
      connection.context = Object.freeze({ ...connection.context, path });
      connection.metrics = this.metrics.gateway(path, connection.transport);
      connection.pathKnown = true;
    }
    return connection;
  }

  /**
   * Records and answers an exception that an exception filter caught outside a
   * traced message on a client of another adapter: a guard's refusal, which
   * interceptors never see (or any exception, where no interceptor is bound).
   * `args` are the handler's arguments (`[client, data, ack?, pattern]`). No
   * span: the message was never traced. Does nothing for a client of neither shape.
   */
  failedUntraced(exception: unknown, client: unknown, args: readonly unknown[]): void {
    const transport = transportOf(client);
    if (transport === undefined) return;
    const connection = this.of(client as object, transport, undefined, undefined);
    const pattern = args[args.length - 1];
    const event = typeof pattern === 'string' ? pattern : WS_EVENT_LABELS.unknown;
    connection.metrics.event(event).received.inc();
    const { context } = connection;
    this.failed(mapWsException(exception), exception, {
      connection,
      client,
      event,
      traceId: context.traceId,
      ack: ackOf(transport, args),
      fields: () => {
        const fields = connectionLine(context);
        fields[F.event] = event;
        return fields;
      },
    });
  }

  /** Counts a failed message, logs `ws.message_failed` and answers the client in its protocol. */
  failed(mapped: WsMappedError, exception: unknown, failure: WsForeignFailure): void {
    const { connection, event, traceId } = failure;
    connection.metrics.event(event).error(mapped.code);
    logMessageFailed(this.log.logger, mapped, exception, failure.fields);
    const meta: WsFrameMeta = {};
    if (this.options.propagateToClient) meta.traceId = traceId;
    if (sendForeignError(failure.client, connection.transport, errorData(mapped, traceId), meta, failure.ack)) {
      connection.metrics.event(WS_EVENT_LABELS.error).sent.inc();
    }
  }

  private create(client: object, transport: WsTransportName, path: string | undefined, known: WsConnectionContext | undefined): WsForeignConnection {
    const handshake = foreignHandshake(client, transport);
    const remote: SpanContext | undefined = handshake.trace?.spanId === undefined ? undefined : { traceId: handshake.trace.traceId, spanId: handshake.trace.spanId, traceFlags: handshake.trace.traceFlags, isRemote: true };
    const context: WsConnectionContext =
      known ??
      Object.freeze({
        connectionId: randomUUID(),
        traceId: handshake.trace?.traceId ?? generateTraceId(),
        handshakeSpanContext: remote ?? INVALID_SPAN_CONTEXT,
        user: undefined,
        remoteAddress: handshake.remoteAddress,
        userAgent: handshake.userAgent,
        origin: handshake.origin,
        path: path ?? UNKNOWN_PATH,
        transport,
        openedAt: Date.now(),
      });
    const parentSpan = trace.isSpanContextValid(context.handshakeSpanContext) ? context.handshakeSpanContext : undefined;
    return {
      transport,
      context,
      metrics: this.metrics.gateway(context.path, transport),
      pathKnown: known !== undefined || path !== undefined,
      parent: parentSpan ? trace.setSpanContext(ROOT_CONTEXT, parentSpan) : ROOT_CONTEXT,
      links: parentSpan ? [{ context: parentSpan }] : undefined,
      spanAttributes: Object.freeze(context.user ? { [A.enduserId]: context.user.id } : {}),
      recordedAttributes: Object.freeze({
        [A.messagingSystem]: WS_MESSAGING_SYSTEMS[transport],
        [A.messagingOperationType]: 'process',
        [A.messagingOperationName]: 'process',
        [A.connectionId]: context.connectionId,
        [A.connectionTraceId]: context.traceId,
        [A.path]: context.path,
      }),
    };
  }
}
