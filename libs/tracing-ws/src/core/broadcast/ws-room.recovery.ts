import { context as otelContext, type Context, type Tracer } from '@opentelemetry/api';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { WS_ROOM_EVENTS, type WsRecoveryFailure, type WsRoomPosition } from '../model/ws-protocol.js';
import type { WsOutgoingFrame } from '../model/ws-transport.js';
import { connectionLine, MAX_ROOM_TEXT } from '../telemetry/ws-log.fields.js';
import type { WsHistoryMetrics } from '../telemetry/ws-history.metrics.js';
import type { WsLogger } from '../telemetry/ws.logger.js';
import { replayEntries } from './ws-room.replay.js';
import { decideRecovery, type WsHistoryRead, type WsPosition, type WsRoomHistory } from './ws-room.history.js';

type EventFrame = WsOutgoingFrame & { kind: 'event' };

/** A live broadcast that arrived for a connection while its recovery of the room was being read. */
interface Held {
  readonly epoch: string;
  readonly offset: number;
  readonly frame: EventFrame;
}

/**
 * Recovery of a room for one connection: a join tells the client where the room is
 * (`position`), or, when it asked (`meta.recover`, a `recover` frame), replays what it
 * missed then says `recovered`, or says `recovery_failed` with a bounded reason. While an
 * asynchronous read (Redis) runs, the room's live broadcasts to that connection are held
 * and released after the replay, minus what the replay already sent: none lost, none
 * twice, the replay first. An in-memory read is synchronous, so nothing can come between
 * and nothing is held. Internal.
 */
export class WsRoomRecovery {
  private readonly held = new Map<WsConnectionState, Map<string, Held[]>>();
  /**
   * After a release, the position the client has, until the channel's first broadcast past it.
   * The read's reply and the channel's messages come on different Redis connections, so a
   * broadcast the replay already sent can still arrive from the channel after the release.
   */
  private readonly floors = new Map<WsConnectionState, Map<string, WsPosition>>();
  /** Per room, how many connections it is held or floored for: the delivery loop asks {@link hold} only there. */
  private readonly watched = new Map<string, number>();

  constructor(
    private readonly history: WsRoomHistory,
    private readonly tracer: Tracer,
    private readonly sender: WsFrameSender,
    private readonly log: WsLogger,
    private readonly metrics: WsHistoryMetrics,
    private readonly settings: { readonly ttlMs: number; readonly size: number; readonly propagateToClient: boolean },
  ) {}

  /** True while some connection's recovery of `room` holds or filters its live broadcasts (the delivery loop asks {@link hold} only then). */
  holds(room: string): boolean {
    return this.watched.has(room);
  }

  /** Keeps a live broadcast back if `state` is recovering `room`; false when it should be sent now. */
  hold(state: WsConnectionState, room: string, epoch: string, offset: number, frame: EventFrame): boolean {
    const list = this.held.get(state)?.get(room);
    if (list) {
      // Bounded: past it the client sees a jump in offsets and asks again.
      if (list.length < this.settings.size * 2 + 64) list.push({ epoch, offset, frame });
      return true;
    }
    const floors = this.floors.get(state);
    const floor = floors?.get(room);
    if (!floor) return false;
    // Already sent by the replay: dropped, not sent twice.
    if (epoch === floor.epoch && offset <= floor.offset) return true;
    // The channel is past the replay: nothing older can come any more.
    this.dropFloor(state, room);
    return false;
  }

  /** Starts telling `state` about `room`: its position, or the replay after `asked`. */
  start(state: WsConnectionState, room: string, asked: WsRoomPosition | undefined): void {
    if (this.held.get(state)?.has(room)) return;
    const parent = otelContext.active();
    let pending: WsHistoryRead | WsPosition | Promise<WsHistoryRead | WsPosition>;
    try {
      pending = asked ? this.history.read(room, asked.epoch === '' ? 0 : asked.offset) : this.history.position(room);
    } catch (err) {
      pending = Promise.reject(err);
    }
    if (!(pending instanceof Promise)) return this.settle(state, room, asked, pending, parent);
    // A new read supersedes what the last one left.
    this.dropFloor(state, room);
    let rooms = this.held.get(state);
    if (!rooms) this.held.set(state, (rooms = new Map()));
    rooms.set(room, []);
    this.watch(room, 1);
    pending.then(
      (result) => this.settle(state, room, asked, result, parent),
      () => {
        if (asked) this.failed(state, room, asked, 'unavailable', undefined);
        this.release(state, room, undefined);
      },
    );
  }

  /** Tells local members where `room` is: they ask for what they missed if they are behind. */
  announce(members: Iterable<WsConnectionState>, room: string, position: WsPosition): void {
    const frame: EventFrame = { kind: 'event', event: WS_ROOM_EVENTS.position, data: { room, ...position }, meta: undefined };
    this.sender.sendToMany(members, frame, WS_ROOM_EVENTS.position);
  }

  /** A closed connection's held broadcasts are dropped. */
  forget(state: WsConnectionState): void {
    for (const room of this.held.get(state)?.keys() ?? []) this.watch(room, -1);
    for (const room of this.floors.get(state)?.keys() ?? []) this.watch(room, -1);
    this.held.delete(state);
    this.floors.delete(state);
  }

  private settle(state: WsConnectionState, room: string, asked: WsRoomPosition | undefined, result: WsHistoryRead | WsPosition, parent: Context): void {
    if (!('entries' in result)) {
      this.sender.send(state, this.event(WS_ROOM_EVENTS.position, { room, epoch: result.epoch, offset: result.offset }), WS_ROOM_EVENTS.position);
      return this.release(state, room, result);
    }
    const decision = decideRecovery(asked!, result, this.settings.ttlMs, Date.now());
    const position = { epoch: result.epoch, offset: result.head };
    if (!decision.ok) {
      this.failed(state, room, asked!, decision.reason, position);
      return this.release(state, room, position);
    }
    const sent = replayEntries(this.tracer, this.sender, state, room, result.epoch, decision.entries, this.settings.propagateToClient, parent);
    // What was really sent: a replay cut short (backpressure) leaves a gap the client asks about again.
    const reached = sent === decision.entries.length ? result.head : decision.entries[sent - 1]?.offset ?? asked!.offset;
    if (sent > 0) this.metrics.recovered.inc(sent);
    this.sender.send(state, this.event(WS_ROOM_EVENTS.recovered, { room, epoch: result.epoch, offset: reached, count: sent }), WS_ROOM_EVENTS.recovered);
    this.line(state, room, asked!, position, { [F.recovered]: sent }, WS_LOG_MESSAGES.historyRecovered);
    this.release(state, room, { epoch: result.epoch, offset: reached });
  }

  private failed(state: WsConnectionState, room: string, asked: WsRoomPosition, reason: WsRecoveryFailure, position: WsPosition | undefined): void {
    this.metrics.failed(reason);
    this.sender.send(state, this.event(WS_ROOM_EVENTS.recoveryFailed, { room, reason, ...position }), WS_ROOM_EVENTS.recoveryFailed);
    this.line(state, room, asked, position, { [F.reason]: reason }, WS_LOG_MESSAGES.historyRecoveryFailed);
  }

  /** Sends what was held, in order, minus what the client already has (offsets up to `after` in its epoch). */
  private release(state: WsConnectionState, room: string, after: WsPosition | undefined): void {
    const rooms = this.held.get(state);
    const list = rooms?.get(room);
    if (!rooms || !list) return;
    rooms.delete(room);
    if (rooms.size === 0) this.held.delete(state);
    this.watch(room, -1);
    let passed = false;
    for (const h of list) {
      if (after && h.epoch === after.epoch && h.offset <= after.offset) continue;
      passed ||= after !== undefined && h.epoch === after.epoch;
      this.sender.send(state, h.frame, h.frame.event, true);
    }
    // Until the channel delivers a broadcast past `after`, one it already sent may still come.
    if (after && !passed) {
      let floors = this.floors.get(state);
      if (!floors) this.floors.set(state, (floors = new Map()));
      floors.set(room, after);
      this.watch(room, 1);
    }
  }

  private dropFloor(state: WsConnectionState, room: string): void {
    const floors = this.floors.get(state);
    if (!floors?.delete(room)) return;
    if (floors.size === 0) this.floors.delete(state);
    this.watch(room, -1);
  }

  private watch(room: string, by: 1 | -1): void {
    const n = (this.watched.get(room) ?? 0) + by;
    if (n > 0) this.watched.set(room, n);
    else this.watched.delete(room);
  }

  private event(event: string, data: unknown): EventFrame {
    return { kind: 'event', event, data, meta: undefined };
  }

  private line(state: WsConnectionState, room: string, asked: WsRoomPosition, position: WsPosition | undefined, extra: Record<string, unknown>, msg: string): void {
    const fields = connectionLine(state.context);
    fields[F.room] = room.slice(0, MAX_ROOM_TEXT);
    fields[F.fromOffset] = asked.offset;
    if (position) {
      fields[F.epoch] = position.epoch;
      fields[F.offset] = position.offset;
    }
    Object.assign(fields, extra);
    this.log.logger.info(fields, msg);
  }
}
