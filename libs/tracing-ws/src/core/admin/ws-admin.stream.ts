import type { ServerResponse } from 'node:http';
import { WS_LIVE_EVENT_TYPES as LIVE, WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import { WsTokenBucket } from '../policy/ws-token.bucket.js';
import type { WsLiveEvent } from '../telemetry/ws-live.tap.js';
import type { WsAdminDropReason } from './ws-admin.metrics.js';

/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The operator's end of a watch: a Server-Sent Events response, one JSON object per
 * `data:` line. Bounded like the instances' share: `eventsPerSecond` in total (the
 * sum of every instance's share could be more), and nothing is queued for a reader
 * that does not keep up (its events are dropped as `slow_reader`).
 */
export class WsWatchStream {
  private readonly bucket: WsTokenBucket;
  private readonly keepalive: NodeJS.Timeout;
  private dropped = 0;
  private ended = false;
  /** Events that arrived before the first event was written (instances answer at their own pace). */
  private early: WsLiveEvent[] | undefined = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly eventsPerSecond: number,
    private readonly onDrop: (reason: WsAdminDropReason) => void,
  ) {
    this.bucket = new WsTokenBucket(eventsPerSecond, eventsPerSecond);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      // Ended at shutdown or expiry, the stream's connection closes with it: it never holds the server.
      Connection: 'close',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    this.keepalive = setInterval(() => this.ended || res.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Writes one event; false when the reader is behind (the caller counts the drop). */
  push(event: WsLiveEvent): boolean {
    if (this.ended) return true;
    if (this.res.writableNeedDrain) return false;
    if (this.early) {
      if (this.early.length >= this.eventsPerSecond) return false;
      this.early.push(event);
      return true;
    }
    if (!this.bucket.take()) {
      this.dropped++;
      this.onDrop('rate');
      return true;
    }
    const out = this.dropped > 0 ? { ...event, [LF.dropped]: ((event[LF.dropped] as number | undefined) ?? 0) + this.dropped } : event;
    this.dropped = 0;
    this.write(out);
    return true;
  }

  /** Writes the first event, whatever the bound. */
  start(event: WsLiveEvent): void {
    if (this.ended) return;
    this.write(event);
    const early = this.early ?? [];
    this.early = undefined;
    for (const e of early) this.push(e);
  }

  /** Writes the `end` event and ends the response. Idempotent. */
  end(reason: string): void {
    if (this.ended) return;
    this.write({ [LF.type]: LIVE.end, [LF.at]: Date.now(), [F.reason]: reason });
    this.ended = true;
    clearInterval(this.keepalive);
    this.res.end();
  }

  /** The reader went away. */
  closed(): void {
    this.ended = true;
    clearInterval(this.keepalive);
  }

  private write(event: WsLiveEvent): void {
    // JSON.stringify escapes every newline inside strings: one event, one data line.
    this.res.write(`data: ${JSON.stringify(event)}\n\n`);
  }
}
