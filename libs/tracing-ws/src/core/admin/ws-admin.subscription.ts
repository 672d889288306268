import { WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import { WsTokenBucket } from '../policy/ws-token.bucket.js';
import type { WsLiveEvent, WsLiveSubscriber } from '../telemetry/ws-live.tap.js';
import type { WsAdminDropReason } from './ws-admin.metrics.js';

/** Where a subscription's events go: false when the event could not be taken (dropped as `backlog` / `slow_reader`). */
export type WsWatchOutput = (event: WsLiveEvent) => boolean;

/**
 * One watch's share of this instance's events: at most `eventsPerSecond` (a token
 * bucket, with one second of burst), the excess dropped and counted and the count
 * put on the next event that goes out; payloads only when asked for and allowed,
 * redacted. Runs inside the watched user's message handling: it never waits.
 */
export class WsWatchSubscription implements WsLiveSubscriber {
  private readonly bucket: WsTokenBucket;
  private dropped = 0;

  constructor(
    readonly payloads: boolean,
    eventsPerSecond: number,
    private readonly output: WsWatchOutput,
    private readonly redact: (payload: unknown) => string,
    private readonly onDrop: (reason: WsAdminDropReason) => void,
    private readonly backlogReason: WsAdminDropReason,
  ) {
    this.bucket = new WsTokenBucket(eventsPerSecond, eventsPerSecond);
  }

  deliver(event: WsLiveEvent, payload: unknown): void {
    if (!this.bucket.take()) {
      this.dropped++;
      this.onDrop('rate');
      return;
    }
    // The tap shares one event between the watches: a copy when this one adds to it.
    let out = event;
    if (this.dropped > 0 || payload !== undefined) {
      out = { ...event };
      if (this.dropped > 0) out[LF.dropped] = this.dropped;
      if (payload !== undefined) out[F.payload] = this.redact(payload);
    }
    if (this.output(out)) {
      this.dropped = 0;
    } else {
      this.dropped++;
      this.onDrop(this.backlogReason);
    }
  }
}
