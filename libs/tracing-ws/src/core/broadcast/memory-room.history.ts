import { randomBytes } from 'node:crypto';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import type { WsHistoryEntry, WsHistoryRead, WsRoomHistory } from './ws-room.history.js';

type HistorySettings = NonNullable<ResolvedTracingWsOptions['broadcast']['history']>;

/** What a kept entry is charged beyond its text (object, strings' headers): an estimate, for the `maxBytes` bound. */
const ENTRY_OVERHEAD = 160;
const RECORD_OVERHEAD = 200;

class RoomRecord {
  /** Random per record: a room forgotten and started again never reuses an epoch. */
  readonly epoch = randomBytes(6).toString('hex');
  head = 0;
  entries: WsHistoryEntry[] = [];
  bytes: number;

  constructor(readonly room: string) {
    this.bytes = RECORD_OVERHEAD + room.length;
  }
}

/**
 * The in-process room history: per room an epoch (random when the room's record is
 * created, so a restarted process never passes for the one a client knew), a counter
 * and the last `size` entries younger than `ttlMs`. Rooms are kept in write order, so
 * the `maxBytes` bound takes from the least recently written first. Internal.
 */
export class MemoryRoomHistory implements WsRoomHistory {
  private readonly rooms = new Map<string, RoomRecord>();
  private totalBytes = 0;
  private totalEntries = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly settings: HistorySettings) {
    // Entries past their age leave even from rooms nobody writes to any more.
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(10000, Math.max(250, settings.ttlMs / 4)));
    this.sweeper.unref();
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.totalEntries, bytes: this.totalBytes };
  }

  /** Numbers and keeps a broadcast; returns its position. Synchronous: live delivery follows in the same turn. */
  append(room: string, entry: Omit<WsHistoryEntry, 'offset'>): { epoch: string; offset: number } {
    let record = this.rooms.get(room);
    if (record) {
      // Most recently written last: the eviction order.
      this.rooms.delete(room);
    } else {
      record = new RoomRecord(room);
      this.totalBytes += record.bytes;
    }
    this.rooms.set(room, record);
    const offset = ++record.head;
    const kept: WsHistoryEntry = { ...entry, offset };
    const bytes = entry.body.length + ENTRY_OVERHEAD;
    record.entries.push(kept);
    record.bytes += bytes;
    this.totalBytes += bytes;
    this.totalEntries++;
    if (record.entries.length > this.settings.size) this.dropOldest(record);
    if (this.totalBytes > this.settings.maxBytes) this.evict(record);
    return { epoch: record.epoch, offset };
  }

  /** The room's position without entries: a fresh join learns where it starts. */
  position(room: string): { epoch: string; offset: number } {
    const record = this.rooms.get(room) ?? this.create(room);
    return { epoch: record.epoch, offset: record.head };
  }

  read(room: string, after: number): WsHistoryRead {
    const record = this.rooms.get(room) ?? this.create(room);
    const entries = record.entries;
    // Entries are in offset order and contiguous: index arithmetic instead of a search.
    const first = entries[0];
    const start = first === undefined ? 0 : Math.max(0, after + 1 - first.offset);
    return { epoch: record.epoch, head: record.head, entries: entries.slice(start) };
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** A room record is made at a join too, so that a client learns an epoch before anything is published. */
  private create(room: string): RoomRecord {
    const record = new RoomRecord(room);
    this.rooms.set(room, record);
    this.totalBytes += record.bytes;
    if (this.totalBytes > this.settings.maxBytes) this.evict(record);
    return record;
  }

  private dropOldest(record: RoomRecord): void {
    const dropped = record.entries.shift();
    if (!dropped) return;
    const bytes = dropped.body.length + ENTRY_OVERHEAD;
    record.bytes -= bytes;
    this.totalBytes -= bytes;
    this.totalEntries--;
  }

  /** Over `maxBytes`: the least recently written rooms lose entries, then their records; `keep` is the room being written. */
  private evict(keep: RoomRecord): void {
    for (const record of this.rooms.values()) {
      if (this.totalBytes <= this.settings.maxBytes) return;
      while (record.entries.length > 0 && this.totalBytes > this.settings.maxBytes) this.dropOldest(record);
      if (record !== keep && this.totalBytes > this.settings.maxBytes) {
        this.rooms.delete(record.room);
        this.totalBytes -= record.bytes;
      }
    }
  }

  private sweep(now: number): void {
    const oldest = now - this.settings.ttlMs;
    for (const record of this.rooms.values()) {
      while (record.entries.length > 0 && record.entries[0]!.publishedAt < oldest) this.dropOldest(record);
    }
  }
}
