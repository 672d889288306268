import type { ResolvedClientOptions } from './tracing-ws-client.options.js';

type Timer = ReturnType<typeof setTimeout>;
type HeartbeatSettings = Exclude<ResolvedClientOptions['heartbeat'], false>;

/**
 * Watches server activity: after `intervalMs` of silence it asks for a ping,
 * after `timeoutMs` more it declares the connection dead. One timer, re-armed
 * lazily, so a busy connection costs a `Date.now()` per frame. Internal.
 */
export class WsHeartbeat {
  private timer: Timer | undefined;
  private lastActivity = 0;
  private pinged = false;

  constructor(
    private readonly settings: HeartbeatSettings,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {}

  /** A frame arrived (or the socket opened). */
  activity(): void {
    this.lastActivity = Date.now();
    this.pinged = false;
    if (this.timer === undefined) this.timer = setTimeout(() => this.check(), this.settings.intervalMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    this.timer = undefined;
    const { intervalMs, timeoutMs } = this.settings;
    const silentMs = Date.now() - this.lastActivity;
    const deadAt = intervalMs + timeoutMs;
    if (silentMs >= deadAt) return this.dead();
    if (silentMs >= intervalMs && !this.pinged) {
      this.pinged = true;
      this.ping();
    }
    this.timer = setTimeout(() => this.check(), silentMs >= intervalMs ? deadAt - silentMs : intervalMs - silentMs);
  }
}
