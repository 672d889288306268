import type { WsFrameMeta, WsRecoveryFailure, WsRoomPosition } from '../model/ws-protocol.js';

/** One broadcast kept in a room's history. */
export interface WsHistoryEntry {
  readonly offset: number;
  readonly event: string;
  /**
   * The frame text without its `meta` and closing brace (`{"event":…,"data":…`): a
   * delivery appends the meta of the moment (live or recovered) without re-serialising the data.
   */
  readonly body: string;
  /** W3C traceparent of the publisher's `send <event>` span: a replay links to it. */
  readonly traceparent: string | undefined;
  /** Trace id to show when no span context was propagated. */
  readonly traceId: string | undefined;
  /** Publication time, ms since the epoch (the `ttlMs` rule). */
  readonly publishedAt: number;
}

/** What a history read returns: the room's epoch and last offset, and the entries after the asked offset. */
export interface WsHistoryRead {
  /** `''` when the room has no stream (nothing published yet, or expired). */
  readonly epoch: string;
  /** Offset of the last broadcast (0: none). */
  readonly head: number;
  readonly entries: readonly WsHistoryEntry[];
}

/** A room history backend: in memory, or Redis Streams. Internal. */
export interface WsRoomHistory {
  /** The entries after `after` (all the history keeps, in order); rejects when the backend is unreachable. */
  read(room: string, after: number): WsHistoryRead | Promise<WsHistoryRead>;
  /** The room's epoch and last offset only (a join without `meta.recover`). */
  position(room: string): WsPosition | Promise<WsPosition>;
}

/** Where a room's stream is: its epoch (`''`: no stream yet) and last offset. */
export interface WsPosition {
  readonly epoch: string;
  readonly offset: number;
}

/** `{"event":…,"data":…` : the frame text a history entry keeps. */
export function frameBody(event: string, data: unknown): string {
  return JSON.stringify({ event, data }).slice(0, -1);
}

/** A whole frame from a kept body and the meta of this delivery (same JSON as `jsonFrameText`). */
export function frameText(body: string, meta: WsFrameMeta): string {
  return `${body},"meta":${JSON.stringify(meta)}}`;
}

/** The outcome of a recovery request against what the history holds. */
export type WsRecoveryDecision = { readonly ok: true; readonly entries: readonly WsHistoryEntry[] } | { readonly ok: false; readonly reason: WsRecoveryFailure };

/**
 * Decides what a client that last saw `asked` gets: every entry after it, contiguous up
 * to the head and none older than `ttlMs`, or a failure: `epoch` when the stream it
 * counted in is gone (restarted process, recreated stream) or the offset is ahead of the
 * head; `gap` when part of what it missed is no longer kept. Never a partial replay.
 */
export function decideRecovery(asked: WsRoomPosition, read: WsHistoryRead, ttlMs: number, now: number): WsRecoveryDecision {
  // A client that joined before the room had a stream missed everything of the current one.
  const from = asked.epoch === '' ? 0 : asked.offset;
  if (asked.epoch !== '' && asked.epoch !== read.epoch) return { ok: false, reason: 'epoch' };
  if (from > read.head) return { ok: false, reason: 'epoch' };
  if (from === read.head) return { ok: true, entries: [] };
  const entries = read.entries.filter((e) => e.offset > from);
  const oldest = now - ttlMs;
  let expected = from + 1;
  for (const e of entries) {
    if (e.offset !== expected || e.publishedAt < oldest) return { ok: false, reason: 'gap' };
    expected++;
  }
  return expected - 1 === read.head ? { ok: true, entries } : { ok: false, reason: 'gap' };
}
