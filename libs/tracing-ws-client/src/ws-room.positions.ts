import { WS_ROOM_EVENTS, type WsFrame, type WsRecoveryFailure, type WsRoomPosition } from './ws-protocol.js';

/** What the client does with a frame, once its room position has been looked at. */
export type WsRoomVerdict = 'deliver' | 'drop' | 'handled';

/** What the positions tell the client. */
export interface WsRoomPositionEvents {
  /** Ask the server for what came after `position` (a `recover` frame). */
  ask(position: WsRoomPosition): void;
  recovered(event: { room: string; count: number }): void;
  failed(event: { room: string; reason: WsRecoveryFailure }): void;
}

interface RoomState {
  epoch: string;
  offset: number;
  /** A recovery was asked for (re-join or gap) and its answer has not come. */
  pendingSince: number;
  /** An unnumbered broadcast came (server's Redis down): already reported once. */
  unrecoverable: boolean;
}

/** A recovery whose answer has not come after this long is asked again at the next gap. */
const PENDING_TIMEOUT_MS = 10000;
const REASONS: readonly string[] = ['gap', 'epoch', 'unavailable'];

/**
 * The last position seen in each room, and what follows from each frame: a room
 * broadcast right after it is delivered; one already seen (a replay overlapping the
 * live stream) is dropped; one past a gap is dropped and the gap asked for (the replay
 * brings it, in order). The server's own history frames are handled here and never
 * reach `subscribe` handlers. An application needs no code of its own for any of it.
 */
export class WsRoomPositions {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly events: WsRoomPositionEvents,
    private readonly now: () => number = Date.now,
  ) {}

  /** The `meta.recover` of a re-join of `room`, when a position is known; the recovery is then pending. */
  recoverMeta(room: string): WsRoomPosition | undefined {
    const p = this.rooms.get(room);
    if (!p) return undefined;
    p.pendingSince = this.now();
    return { room, epoch: p.epoch, offset: p.offset };
  }

  /** The connection dropped: answers to what was asked will never come. */
  disconnected(): void {
    for (const p of this.rooms.values()) p.pendingSince = 0;
  }

  forget(room: string): void {
    this.rooms.delete(room);
  }

  onFrame(frame: WsFrame): WsRoomVerdict {
    const meta = frame.meta;
    if (frame.event === WS_ROOM_EVENTS.position || frame.event === WS_ROOM_EVENTS.recovered || frame.event === WS_ROOM_EVENTS.recoveryFailed) return this.control(frame);
    if (!meta || typeof meta.room !== 'string') return 'deliver';
    const room = meta.room;
    if (typeof meta.offset !== 'number' || typeof meta.epoch !== 'string') {
      const p = this.rooms.get(room);
      if (meta.recoverable === false && p && !p.unrecoverable) {
        p.unrecoverable = true;
        this.events.failed({ room, reason: 'unavailable' });
      }
      return 'deliver';
    }
    return this.numbered(room, meta.epoch, meta.offset);
  }

  private numbered(room: string, epoch: string, offset: number): WsRoomVerdict {
    const p = this.rooms.get(room);
    if (!p) {
      this.rooms.set(room, { epoch, offset, pendingSince: 0, unrecoverable: false });
      return 'deliver';
    }
    p.unrecoverable = false;
    const next = p.epoch === epoch ? p.offset + 1 : p.epoch === '' ? 1 : -1;
    if (offset === next) {
      p.epoch = epoch;
      p.offset = offset;
      return 'deliver';
    }
    if (p.epoch === epoch && offset <= p.offset) return 'drop';
    this.askFor(room, p);
    return 'drop';
  }

  private control(frame: WsFrame): WsRoomVerdict {
    const data = frame.data as Partial<WsRoomPosition & { reason: string; count: number }> | undefined;
    const room = data?.room;
    if (typeof room !== 'string') return 'handled';
    const known = typeof data!.epoch === 'string' && typeof data!.offset === 'number' ? { epoch: data!.epoch, offset: data!.offset } : undefined;
    const p = this.rooms.get(room);
    if (frame.event === WS_ROOM_EVENTS.position && known) {
      if (!p || (p.epoch !== known.epoch && known.offset === 0)) this.rooms.set(room, { ...known, pendingSince: 0, unrecoverable: false });
      else if (p.epoch !== known.epoch ? known.offset > 0 : known.offset > p.offset) this.askFor(room, p);
    } else if (frame.event === WS_ROOM_EVENTS.recovered && p) {
      p.pendingSince = 0;
      this.events.recovered({ room, count: typeof data!.count === 'number' ? data!.count : 0 });
    } else if (frame.event === WS_ROOM_EVENTS.recoveryFailed) {
      if (known) this.rooms.set(room, { ...known, pendingSince: 0, unrecoverable: false });
      else this.rooms.delete(room);
      const reason = typeof data!.reason === 'string' && REASONS.includes(data!.reason) ? (data!.reason as WsRecoveryFailure) : 'unavailable';
      this.events.failed({ room, reason });
    }
    return 'handled';
  }

  /** Asks once for what followed the last position; again only if no answer came in time. */
  private askFor(room: string, p: RoomState): void {
    const now = this.now();
    if (p.pendingSince > 0 && now - p.pendingSince < PENDING_TIMEOUT_MS) return;
    p.pendingSince = now;
    this.events.ask({ room, epoch: p.epoch, offset: p.offset });
  }
}
