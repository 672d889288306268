import type { Tracer } from '@opentelemetry/api';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import type { WsFrameMeta, WsRoomPosition } from '../model/ws-protocol.js';
import type { WsOutgoingFrame } from '../model/ws-transport.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import type { WsHistoryMetrics } from '../telemetry/ws-history.metrics.js';
import type { WsLogger } from '../telemetry/ws.logger.js';
import { MemoryRoomHistory } from './memory-room.history.js';
import type { RedisBroadcastBus } from './redis-broadcast.bus.js';
import { RedisRoomHistory } from './redis-room.history.js';
import type { WsEnvelopeHeader, WsEnvelopePosition } from './ws-broadcast.envelope.js';
import type { WsLocalRegistry } from './ws-local.registry.js';
import { frameBody, frameText } from './ws-room.history.js';
import { WsRoomRecovery } from './ws-room.recovery.js';

type HistorySettings = NonNullable<ResolvedTracingWsOptions['broadcast']['history']>;
type EventFrame = WsOutgoingFrame & { kind: 'event' };

/**
 * Room broadcasts with a history (`broadcast.history`): numbered, kept, delivered in
 * stream order, and recovered. In memory, a broadcast is numbered and delivered in the
 * same turn. With Redis, one script numbers, keeps and publishes it, and every instance,
 * the publisher too, delivers it when it comes back on the channel: the order of the
 * channel is the order of the stream, on every instance. While Redis is down a room
 * broadcast is delivered locally at once, unnumbered, with `meta.recoverable: false`.
 * Internal.
 */
export class WsRoomStreams {
  readonly recovery: WsRoomRecovery;
  private readonly memory: MemoryRoomHistory | undefined;
  private readonly redis: RedisRoomHistory | undefined;
  private readonly unobserve: (() => void) | undefined;

  constructor(
    settings: HistorySettings,
    bus: RedisBroadcastBus | undefined,
    keyPrefix: string,
    private readonly registry: WsLocalRegistry,
    private readonly sender: WsFrameSender,
    tracer: Tracer,
    log: WsLogger,
    metrics: WsHistoryMetrics,
    propagateToClient: boolean,
  ) {
    if (bus) this.redis = new RedisRoomHistory(bus, keyPrefix, settings);
    else {
      const memory = (this.memory = new MemoryRoomHistory(settings));
      this.unobserve = metrics.observe(() => memory.size);
    }
    const history = this.redis ?? this.memory!;
    this.recovery = new WsRoomRecovery(history, tracer, sender, log, metrics, { ttlMs: settings.ttlMs, size: settings.size, propagateToClient });
  }

  /**
   * Publishes a room broadcast; `meta` is what every frame carries (the trace id),
   * `traceparent` the publisher's span (a replay links to it), `header` the envelope header when a bus relays it. Returns the local members it
   * is (or, with Redis, will be) delivered to.
   */
  publish(room: string, event: string, data: unknown, meta: WsFrameMeta, traceparent: string | undefined, header: WsEnvelopeHeader | undefined): number {
    const body = frameBody(event, data);
    if (this.memory) {
      const position = this.memory.append(room, { event, body, traceparent, traceId: meta.traceId, publishedAt: Date.now() });
      return this.deliver(room, event, frameText(body, { ...meta, room, ...position }), position);
    }
    if (header && this.redis!.append(room, JSON.stringify(header), body)) return this.registry.room(room).size;
    // Not numbered: delivered here only, and the client learns it cannot be recovered.
    return this.deliver(room, event, frameText(body, { ...meta, room, recoverable: false }), undefined);
  }

  /** A numbered broadcast from the channel (any instance's, this one's too): delivered in the channel's order. */
  receive(room: string, event: string, body: string, position: WsEnvelopePosition, traceId: string | undefined): number {
    const meta: WsFrameMeta = { room, epoch: position.epoch, offset: position.offset };
    if (traceId) meta.traceId = traceId;
    return this.deliver(room, event, frameText(body, meta), position);
  }

  /** A numbered broadcast dropped as stale: members are told the room moved on, and ask for it. */
  dropped(room: string, position: WsEnvelopePosition): void {
    this.recovery.announce(this.registry.room(room), room, position);
  }

  /** Redis is back: members of every local room hear where it is, and ask for what they missed. */
  resync(): void {
    const redis = this.redis;
    if (!redis) return;
    for (const room of [...this.registry.roomNames()]) {
      redis.position(room).then(
        (position) => position.epoch !== '' && this.recovery.announce(this.registry.room(room), room, position),
        () => undefined,
      );
    }
  }

  /** A join: the position, or the replay the client asked for in `meta.recover`. */
  joined(state: WsConnectionState, room: string, asked: WsRoomPosition | undefined): void {
    this.recovery.start(state, room, asked);
  }

  stop(): void {
    this.memory?.stop();
    this.unobserve?.();
  }

  private deliver(room: string, event: string, text: string, position: WsEnvelopePosition | undefined): number {
    const frame: EventFrame = { kind: 'event', event, meta: undefined, text };
    const recovery = this.recovery;
    // Nobody is being held back by a replay (the usual case): one write per member, counted per gateway.
    if (!position || !recovery.holds(room)) return this.sender.sendToMany(this.registry.room(room), frame, event);
    let delivered = 0;
    for (const state of this.registry.room(room)) {
      if (recovery.hold(state, room, position.epoch, position.offset, frame)) continue;
      if (this.sender.send(state, frame, event, true)) delivered++;
    }
    return delivered;
  }
}
