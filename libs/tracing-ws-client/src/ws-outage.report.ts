import type { WsOutageReport } from './ws-protocol.js';

/** Close codes a report carries at most (the server refuses more). */
const MAX_CODES = 20;

/**
 * What the client saw between losing its connection (or failing to make the first
 * one) and connecting again: built up from every close, handed out once by the open
 * that ends the outage. A connection that opens without a failure before it reports nothing.
 */
export class WsOutageRecorder {
  private since: number | undefined;
  private attempts = 0;
  private codes: number[] = [];
  private lastRttMs: number | undefined;
  private lastErrorCode: string | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** A close of the current socket: `wasOpen` false when the attempt never opened. */
  closed(code: number, wasOpen: boolean): void {
    this.since ??= this.now();
    if (!wasOpen) this.attempts++;
    if (Number.isInteger(code) && code >= 1000 && code <= 4999) this.codes = [...this.codes, code].slice(-MAX_CODES);
    this.lastErrorCode = `CLOSE_${code}`;
  }

  /** A request was answered after `ms`. */
  roundTrip(ms: number): void {
    this.lastRttMs = Math.max(0, Math.round(ms));
  }

  /** The report of the outage this open ends, if there was one; the recorder starts over. */
  opened(): WsOutageReport | undefined {
    const since = this.since;
    if (since === undefined) return undefined;
    const report: WsOutageReport = {
      offlineMs: Math.max(0, Math.round(this.now() - since)),
      attempts: this.attempts,
      closeCodes: this.codes,
      ...(this.lastRttMs !== undefined ? { lastRttMs: Math.min(this.lastRttMs, 600_000) } : {}),
      ...(this.lastErrorCode !== undefined ? { lastErrorCode: this.lastErrorCode } : {}),
    };
    this.since = undefined;
    this.attempts = 0;
    this.codes = [];
    return report;
  }
}
