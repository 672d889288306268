import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { context as otelContext, SpanKind, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import { randomUUID } from 'node:crypto';
import { getConnectionState, type WsConnectionState } from '../connection/ws-connection.state.js';
import { formatTraceparent } from '../model/trace-context.js';
import { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import { WsMessageDispatcher } from '../dispatch/ws-message.dispatcher.js';
import { jsonFrameText, readRoomPosition, WS_ROOM_EVENTS, type WsFrameMeta } from '../model/ws-protocol.js';
import { WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { chooseTraceId, MAX_ROOM_TEXT } from '../telemetry/ws-log.fields.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { currentWsStore } from '../model/ws-cls.store.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { RedisBroadcastBus } from './redis-broadcast.bus.js';
import { RedisPresence } from './redis-presence.js';
import { encodeEnvelope, type WsEnvelopeHeader } from './ws-broadcast.envelope.js';
import type { WsBroadcastAudience, WsBroadcastBackendState, WsBroadcastTarget, WsOnlineConnection, WsPresenceResult, WsRoomMember } from './ws-broadcast.types.js';
import { WsBroadcastMetrics } from '../telemetry/ws-broadcast.metrics.js';
import { WsLocalRegistry } from './ws-local.registry.js';
import { WsBroadcastDelivery } from './ws-broadcast.delivery.js';
import { WsHistoryMetrics } from '../telemetry/ws-history.metrics.js';
import { WsRoomStreams } from './ws-room.streams.js';

type Publish = (audience: WsBroadcastAudience, target: string | undefined, event: string, data: unknown) => number;

class Target implements WsBroadcastTarget {
  constructor(
    private readonly publish: Publish,
    private readonly audience: WsBroadcastAudience,
    private readonly target: string | undefined,
  ) {}

  emit(event: string, data: unknown): number {
    return this.publish(this.audience, this.target, event, data);
  }
}

/**
 * Rooms and targeted sends for gateways. Each broadcast runs in a `send <event>`
 * span (kind PRODUCER) of the current trace, so a broadcast started by an HTTP
 * request or a message carries that trace id to every recipient (`meta.traceId`)
 * and into its delivery log line. The frame is serialised once per broadcast.
 *
 * With `broadcast.redis`, the same frame is also published on Redis with the
 * span's `traceparent`; every other instance delivers it to its own sockets in
 * a `process <event>` span (kind CONSUMER) that is a child of, and linked to,
 * the publisher's span. An instance ignores its own publications (it delivered
 * them already), so nobody gets a frame twice.
 *
 * @example
 * this.broadcaster.join(socket, 'lobby');
 * this.broadcaster.toRoom('lobby').emit('message', { text });
 */
@Injectable()
export class WsBroadcaster implements OnModuleInit, OnApplicationShutdown {
  /** Id of this instance in envelopes, presence, logs and spans. */
  readonly instanceId: string;
  private readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  private readonly registry = new WsLocalRegistry();
  private readonly delivery: WsBroadcastDelivery;
  private readonly bus: RedisBroadcastBus | undefined;
  private readonly presence: RedisPresence | undefined;
  /** Numbered, kept, recoverable room broadcasts: with `broadcast.history` only. */
  private readonly streams: WsRoomStreams | undefined;
  private readonly boundPublish: Publish = (audience, target, event, data) => this.publish(audience, target, event, data);
  private readonly all: WsBroadcastTarget = new Target(this.boundPublish, 'all', undefined);

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    sender: WsFrameSender,
    log: WsLogger,
    private readonly cls: ClsService,
    private readonly metrics: WsBroadcastMetrics,
    historyMetrics: WsHistoryMetrics,
    dispatcher: WsMessageDispatcher,
  ) {
    const { instanceId, redis, history } = options.broadcast;
    this.instanceId = instanceId;
    this.delivery = new WsBroadcastDelivery(instanceId, options, this.tracer, this.registry, sender, log, metrics, redis !== undefined);
    if (redis) {
      this.bus = new RedisBroadcastBus(redis, instanceId, log, metrics, {
        envelope: (text) => this.delivery.receive(text),
        up: () => {
          void this.presence?.resync();
          this.streams?.resync();
        },
      });
      this.presence = new RedisPresence(redis, instanceId, this.registry, this.bus, metrics, log);
    }
    if (history) {
      const streams = new WsRoomStreams(history, this.bus, redis?.keyPrefix ?? '', this.registry, sender, this.tracer, log, historyMetrics, options.propagateToClient);
      this.streams = streams;
      this.delivery.streams = streams;
      // A client that saw a jump in a room's offsets asks for the gap; only a member may.
      dispatcher.handleLibraryEvent(WS_ROOM_EVENTS.recover, (state, data) => {
        const asked = readRoomPosition(data);
        if (asked && this.registry.roomsOf(state).has(asked.room)) streams.recovery.start(state, asked.room, asked);
      });
    }
  }

  async onModuleInit(): Promise<void> {
    this.metrics.backendUp.set(this.bus ? 0 : 1);
    await this.bus?.start();
    this.presence?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.presence?.stop();
    await this.bus?.stop();
    this.streams?.stop();
  }

  /**
   * Adds `socket` to `room`. Sockets leave all rooms when they close. With
   * `broadcast.history`, the client is then told the room's position, or, when the
   * message being handled carries `meta.recover` for this room (a client library
   * re-joining after a reconnect), sent what it missed first.
   */
  join(socket: unknown, room: string): void {
    const state = this.stateOf(socket);
    // A closed connection has left every room for good: joining it would leak it.
    if (state.closed) return;
    if (this.registry.join(state, room)) this.presence?.joined(state, room);
    if (this.streams) {
      const asked = currentWsStore(this.cls)?.[WS_MESSAGE_CONTEXT]?.recover;
      this.streams.joined(state, room, asked?.room === room ? asked : undefined);
    }
  }

  /** Removes `socket` from `room`. */
  leave(socket: unknown, room: string): void {
    const state = getConnectionState(socket);
    if (state && this.registry.leave(state, room)) this.presence?.left(state, room);
  }

  /** Rooms `socket` is in. */
  roomsOf(socket: unknown): string[] {
    const state = getConnectionState(socket);
    return state ? [...this.registry.roomsOf(state)] : [];
  }

  /** This instance's open connections, or those of one user (the admin surface lists and closes them). Internal. */
  localConnections(userId?: string): ReadonlySet<WsConnectionState> {
    return userId === undefined ? this.registry.connections : this.registry.user(userId);
  }

  /** Number of local sockets in `room`. */
  size(room: string): number {
    return this.registry.room(room).size;
  }

  /** Members of `room` on every instance (this one only with the in-memory backend or while Redis is down). */
  async members(room: string): Promise<WsPresenceResult<WsRoomMember>> {
    const remote = await this.presence?.members(room);
    if (remote) return { items: remote, complete: true };
    const items = [...this.registry.room(room)].map((s) => this.entry(s));
    return { items, complete: !this.bus };
  }

  /** Every open socket on every instance, with its rooms. */
  async online(): Promise<WsPresenceResult<WsOnlineConnection>> {
    const remote = await this.presence?.online();
    if (remote) return { items: remote, complete: true };
    const items = [...this.registry.connections].map((s) => ({ ...this.entry(s), rooms: [...this.registry.roomsOf(s)] }));
    return { items, complete: !this.bus };
  }

  /** Which backend carries broadcasts, and whether it is reachable. */
  get backend(): WsBroadcastBackendState {
    return { backend: this.bus ? 'redis' : 'memory', up: this.bus ? this.bus.up : true, instanceId: this.instanceId };
  }

  /** Every socket in `room`, on every instance. */
  toRoom(room: string): WsBroadcastTarget {
    return new Target(this.boundPublish, 'room', room);
  }

  /** Every socket of user `userId`, on every instance. */
  toUser(userId: string): WsBroadcastTarget {
    return new Target(this.boundPublish, 'user', userId);
  }

  /**
   * One connection, by its id (`WsContextService.connectionId`, `online()`, a
   * log line's `connection_id`), on whichever instance holds it: the traced way
   * to push to one socket from a handler, a service, a timer or an HTTP request.
   * A frame written with the raw socket (`socket.send`, `client.emit`) bypasses
   * the library: no span, no `meta.traceId`, no metrics.
   *
   * @example
   * this.broadcaster.toConnection(this.context.connectionId).emit('progress', { done: 40 });
   */
  toConnection(connectionId: string): WsBroadcastTarget {
    return new Target(this.boundPublish, 'connection', connectionId);
  }

  /** Every open socket, on every instance. */
  toAll(): WsBroadcastTarget {
    return this.all;
  }

  /** Called by the lifecycle when a connection opens. Internal. */
  track(state: WsConnectionState): void {
    this.registry.add(state);
    this.presence?.opened(state);
  }

  /** Called by the lifecycle when a connection closes: it leaves every room. Internal. */
  untrack(state: WsConnectionState): void {
    const rooms = this.registry.remove(state);
    this.presence?.closed(state, rooms);
    this.streams?.recovery.forget(state);
  }

  private publish(audience: WsBroadcastAudience, target: string | undefined, event: string, data: unknown): number {
    const attributes: Attributes = {
      [A.messagingSystem]: 'websocket',
      [A.messagingOperationType]: 'send',
      [A.messagingOperationName]: 'send',
      [A.messagingDestinationName]: audience === 'room' ? target!.slice(0, MAX_ROOM_TEXT) : event,
    };
    if (this.bus) attributes[A.broadcastInstanceId] = this.instanceId;
    const span = this.tracer.startSpan(`send ${event}`, { kind: SpanKind.PRODUCER, attributes });
    return otelContext.with(trace.setSpan(otelContext.active(), span), () => {
      try {
        const spanContext = span.spanContext();
        const valid = trace.isSpanContextValid(spanContext);
        const store = currentWsStore(this.cls);
        const traceId = chooseTraceId(spanContext, store?.[WS_MESSAGE_CONTEXT], store?.[WS_CONNECTION_CONTEXT]);
        const meta: WsFrameMeta = {};
        if (this.options.propagateToClient && traceId) meta.traceId = traceId;
        const streamed = this.streams !== undefined && audience === 'room';
        const text = streamed ? '' : jsonFrameText(event, data, meta);
        let delivered = streamed ? 0 : this.delivery.deliver(audience, target, { kind: 'event', event, data, meta, text });
        let header: WsEnvelopeHeader | undefined;
        // A connection lives on one instance: found here, nobody else needs the publication.
        if (this.bus && !(audience === 'connection' && delivered > 0)) {
          // Undefined fields are left out by JSON.stringify.
          header = {
            v: 1,
            id: randomUUID(),
            origin: this.instanceId,
            audience,
            target,
            event,
            traceparent: valid ? formatTraceparent(spanContext) : undefined,
            traceId: valid ? undefined : traceId,
            publishedAt: Date.now(),
          };
          span.setAttribute(A.messagingMessageId, header.id);
          if (!streamed) this.bus.publish(encodeEnvelope(header, text));
        }
        if (streamed) delivered = this.streams!.publish(target!, event, data, meta, valid ? formatTraceparent(spanContext) : undefined, header);
        span.setAttribute(A.messagingBatchCount, delivered);
        this.delivery.logDelivery(event, audience === 'room' ? target : undefined, delivered, spanContext, traceId, undefined);
        return delivered;
      } finally {
        span.end();
      }
    });
  }

  private entry(state: WsConnectionState): WsRoomMember {
    return { connectionId: state.context.connectionId, instanceId: this.instanceId, userId: state.context.user?.id };
  }

  private stateOf(socket: unknown): WsConnectionState {
    const state = getConnectionState(socket);
    if (!state) throw new Error('WsBroadcaster: this socket was not accepted by TracingWsAdapter (install it with app.useWebSocketAdapter(new TracingWsAdapter(app))).');
    return state;
  }
}
