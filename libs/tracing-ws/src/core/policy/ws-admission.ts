import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WsAddressLimiter } from './ws-address.limiter.js';
import { WsTokenBucket } from './ws-token.bucket.js';

/** Why admission refused a handshake. */
export type WsAdmissionRefusal = { status: 503; reason: 'shutting_down' | 'connection_limit' } | { status: 429; reason: 'ip_limit' };

/**
 * Who may connect and how much they may send: connection limits (global and
 * per address), draining on shutdown, rate-limit buckets, and the count of
 * messages in flight that a graceful shutdown waits for.
 */
@Injectable()
export class WsAdmission {
  private total = 0;
  private readonly perIp = new Map<string, number>();
  private readonly userBuckets = new Map<string, { bucket: WsTokenBucket; connections: number }>();
  private draining = false;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly checks: WsAddressLimiter | undefined;
  private readonly failures: WsAddressLimiter | undefined;

  constructor(@Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions) {
    const perMinute = options.handshakeCheck.perAddressPerMinute;
    this.checks = perMinute > 0 ? new WsAddressLimiter(perMinute / 60, perMinute) : undefined;
    const failuresPerMinute = options.handshakeFailures.perAddressPerMinute;
    this.failures = failuresPerMinute > 0 ? new WsAddressLimiter(failuresPerMinute / 60, failuresPerMinute) : undefined;
  }

  /** True once shutdown has begun: new upgrades are refused, new frames answered with an error. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Reserves a connection slot for `ip`, or says why not. */
  acquire(ip: string | undefined): WsAdmissionRefusal | undefined {
    const refusal = this.wouldRefuse(ip);
    if (refusal) return refusal;
    const key = ip ?? 'unknown';
    this.total++;
    this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
    return undefined;
  }

  /** Why {@link acquire} would refuse `ip` now, without reserving anything (the handshake check). */
  wouldRefuse(ip: string | undefined): WsAdmissionRefusal | undefined {
    if (this.draining) return { status: 503, reason: 'shutting_down' };
    const { maxConnections, maxConnectionsPerIp } = this.options;
    if (maxConnections > 0 && this.total >= maxConnections) return { status: 503, reason: 'connection_limit' };
    const fromIp = this.perIp.get(ip ?? 'unknown') ?? 0;
    if (maxConnectionsPerIp > 0 && fromIp >= maxConnectionsPerIp) return { status: 429, reason: 'ip_limit' };
    return undefined;
  }

  /** Counts one handshake check from `ip` against `handshakeCheck.perAddressPerMinute`: the seconds to wait when over it. */
  admitCheck(ip: string | undefined): number | undefined {
    const waitMs = this.checks?.take(ip ?? 'unknown');
    return waitMs === undefined ? undefined : Math.max(1, Math.ceil(waitMs / 1000));
  }

  /**
   * Whether `ip` has used up its failed-handshake budget: the seconds until it may
   * try again, else undefined. Asked before anything costly (the `authenticate` hook).
   */
  handshakeBlocked(ip: string | undefined): number | undefined {
    const waitMs = this.failures?.waitMs(ip ?? 'unknown') ?? 0;
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : undefined;
  }

  /** Counts one failed handshake of `ip` against `handshakeFailures.perAddressPerMinute`. */
  handshakeFailed(ip: string | undefined): void {
    this.failures?.take(ip ?? 'unknown');
  }

  /** Frees the slot taken by {@link acquire}. */
  release(ip: string | undefined): void {
    const key = ip ?? 'unknown';
    this.total = Math.max(0, this.total - 1);
    const left = (this.perIp.get(key) ?? 1) - 1;
    if (left > 0) this.perIp.set(key, left);
    else this.perIp.delete(key);
  }

  /** The rate-limit bucket of a new connection (shared by a user's connections with `perUser`), or undefined when off. */
  bucketFor(userId: string | undefined): WsTokenBucket | undefined {
    const { messagesPerSecond, burst, perUser } = this.options.rateLimit;
    if (messagesPerSecond === 0) return undefined;
    if (!perUser || userId === undefined) return new WsTokenBucket(messagesPerSecond, burst);
    let entry = this.userBuckets.get(userId);
    if (!entry) this.userBuckets.set(userId, (entry = { bucket: new WsTokenBucket(messagesPerSecond, burst), connections: 0 }));
    entry.connections++;
    return entry.bucket;
  }

  /** Called when a connection closes, so per-user buckets do not outlive their users. */
  releaseBucket(userId: string | undefined): void {
    if (!this.options.rateLimit.perUser || userId === undefined) return;
    const entry = this.userBuckets.get(userId);
    if (entry && --entry.connections <= 0) this.userBuckets.delete(userId);
  }

  messageStarted(): void {
    this.inflight++;
  }

  messageFinished(): void {
    if (--this.inflight <= 0) {
      this.inflight = 0;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Starts draining and resolves when no message is in flight, or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
