import { Inject, Injectable } from '@nestjs/common';
import { context as otelContext, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import type { WsMessageContext } from '../context/ws-connection-context.js';
import { getConnectionState, type WsConnectionState } from '../context/ws-connection.state.js';
import { WsFrameSender } from '../messages/ws-frame.sender.js';
import type { WsFrameMeta } from '../messages/ws-protocol.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../telemetry/tracing-ws.names.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WS_MESSAGE_CONTEXT } from '../tracing-ws.constants.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../tracing-ws.internal-constants.js';
import type { ResolvedTracingWsOptions } from '../tracing-ws.options.js';

/** Where a broadcast goes. */
export interface WsBroadcastTarget {
  /** Sends `{event, data, meta: {traceId}}` to every socket of the target; resolves to how many got it. */
  emit(event: string, data: unknown): number;
}

const MAX_ROOM_TEXT = 128;

/**
 * Rooms and targeted sends for gateways. Each broadcast runs in a `send <event>`
 * span (kind PRODUCER) of the current trace, so a broadcast started by an HTTP
 * request or a message carries that trace id to every recipient (`meta.traceId`)
 * and into its delivery log line. The frame is serialised once per broadcast.
 *
 * @example
 * this.broadcaster.join(socket, 'lobby');
 * this.broadcaster.toRoom('lobby').emit('message', { text });
 */
@Injectable()
export class WsBroadcaster {
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  private readonly rooms = new Map<string, Set<WsConnectionState>>();
  private readonly memberships = new WeakMap<WsConnectionState, Set<string>>();
  private readonly connections = new Set<WsConnectionState>();

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly sender: WsFrameSender,
    private readonly log: WsLogger,
    private readonly cls: ClsService,
  ) {}

  /** Adds `socket` to `room`. Sockets leave all rooms when they close. */
  join(socket: unknown, room: string): void {
    const state = this.stateOf(socket);
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(state);
    let joined = this.memberships.get(state);
    if (!joined) this.memberships.set(state, (joined = new Set()));
    joined.add(room);
  }

  /** Removes `socket` from `room`. */
  leave(socket: unknown, room: string): void {
    const state = getConnectionState(socket);
    if (state) this.remove(state, room);
  }

  /** Rooms `socket` is in. */
  roomsOf(socket: unknown): string[] {
    const state = getConnectionState(socket);
    return state ? [...(this.memberships.get(state) ?? [])] : [];
  }

  /** Number of local sockets in `room`. */
  size(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  /** Every socket in `room`. */
  toRoom(room: string): WsBroadcastTarget {
    return { emit: (event, data) => this.broadcast(event, data, () => this.rooms.get(room) ?? [], room) };
  }

  /** Every socket of user `userId`. */
  toUser(userId: string): WsBroadcastTarget {
    return { emit: (event, data) => this.broadcast(event, data, () => [...this.connections].filter((c) => c.context.user?.id === userId), undefined) };
  }

  /** Every open socket. */
  toAll(): WsBroadcastTarget {
    return { emit: (event, data) => this.broadcast(event, data, () => this.connections, undefined) };
  }

  /** Called by the lifecycle when a connection opens. Internal. */
  track(state: WsConnectionState): void {
    this.connections.add(state);
    state.socket.once('close', () => {
      this.connections.delete(state);
      for (const room of this.memberships.get(state) ?? []) this.remove(state, room);
    });
  }

  private broadcast(event: string, data: unknown, recipients: () => Iterable<WsConnectionState>, room: string | undefined): number {
    const span = this.tracer.startSpan(`send ${event}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        [A.messagingSystem]: 'websocket',
        [A.messagingOperationType]: 'send',
        [A.messagingOperationName]: 'send',
        [A.messagingDestinationName]: room === undefined ? event : room.slice(0, MAX_ROOM_TEXT),
      },
    });
    return otelContext.with(trace.setSpan(otelContext.active(), span), () => {
      try {
        const spanContext = span.spanContext();
        const message = this.cls.get(WS_MESSAGE_CONTEXT) as WsMessageContext | undefined;
        const traceId = trace.isSpanContextValid(spanContext) ? spanContext.traceId : message?.traceId;
        const meta: WsFrameMeta = {};
        if (this.options.propagateToClient && traceId) meta.traceId = traceId;
        const text = JSON.stringify({ event, data, meta });
        let delivered = 0;
        for (const state of recipients()) if (this.sender.send(state, text, event)) delivered++;
        span.setAttribute(A.messagingBatchCount, delivered);
        const logger = this.log.logger;
        const level = this.options.messageLogLevel;
        if (logger.isLevelEnabled(level)) {
          logger[level]({ [F.event]: event, room: room?.slice(0, MAX_ROOM_TEXT), recipients: delivered, ...(traceId ? { [F.traceId]: traceId } : {}) }, WS_LOG_MESSAGES.broadcast);
        }
        return delivered;
      } finally {
        span.end();
      }
    });
  }

  private remove(state: WsConnectionState, room: string): void {
    const members = this.rooms.get(room);
    members?.delete(state);
    if (members?.size === 0) this.rooms.delete(room);
    this.memberships.get(state)?.delete(room);
  }

  private stateOf(socket: unknown): WsConnectionState {
    const state = getConnectionState(socket);
    if (!state) throw new Error('WsBroadcaster: this socket was not accepted by TracingWsAdapter (install it with app.useWebSocketAdapter(new TracingWsAdapter(app))).');
    return state;
  }
}
