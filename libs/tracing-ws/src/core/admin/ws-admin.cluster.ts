import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { WS_LIVE_EVENT_TYPES as LIVE, WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { ADMIN_OPTIONS, RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsAdminOptions } from '../options/tracing-ws-admin.options.js';
import type { ResolvedTracingWsOptions, WsLogLevel } from '../options/tracing-ws.options.js';
import type { WsLiveTarget } from '../telemetry/ws-live.tap.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { readCommand } from './ws-admin.commands.js';
import { WsAdminInstance, type WsInstanceListing, type WsWatchSpec } from './ws-admin.instance.js';
import { WsAdminMetrics } from './ws-admin.metrics.js';
import type { WsAdminConnection, WsAdminFilter } from './ws-admin.snapshot.js';
import { WsWatchStream } from './ws-admin.stream.js';
import { RedisAdminBus, type WsAdminCommand, type WsAdminCommandKind } from './redis-admin.bus.js';

/** How often the watches held here are told to every instance again. */
const REANNOUNCE_MS = 2000;

/** An answer gathered from every instance: `complete` false when one did not answer in time (or Redis is away). */
export interface WsClusterAnswer<T> {
  readonly complete: boolean;
  readonly instances: string[];
  readonly result: T;
}

/**
 * The admin surface across instances: with `broadcast.redis`, each action is a
 * command every instance runs on its own connections (request/reply on the admin
 * channels, bounded by `requestTimeoutMs`); without it, this instance alone. Holds
 * the live trace streams opened on this instance. Internal.
 */
@Injectable()
export class WsAdminCluster implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly bus: RedisAdminBus | undefined;
  private readonly streams = new Map<string, { stream: WsWatchStream; spec: WsWatchSpec; timer: NodeJS.Timeout }>();
  private announcer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(RESOLVED_OPTIONS) core: ResolvedTracingWsOptions,
    @Inject(ADMIN_OPTIONS) private readonly options: ResolvedTracingWsAdminOptions,
    private readonly instance: WsAdminInstance,
    private readonly log: WsLogger,
    private readonly metrics: WsAdminMetrics,
  ) {
    const redis = core.broadcast.redis;
    if (redis) {
      this.bus = new RedisAdminBus(redis, instance.instanceId, log, {
        command: (command) => this.run(command),
        trace: (watchId, event) => {
          const held = this.streams.get(watchId);
          if (held && !held.stream.push(event)) this.metrics.dropped('slow_reader');
        },
      });
    }
  }

  async onModuleInit(): Promise<void> {
    await this.bus?.start();
    // An instance that starts while a watch is open learns of it within this: the watch is told again (instances ignore a repeat).
    if (this.bus) {
      this.announcer = setInterval(() => this.announce(), REANNOUNCE_MS);
      this.announcer.unref();
    }
  }

  /** Live connections matching `filter`, on every instance. */
  async connections(filter: WsAdminFilter): Promise<WsClusterAnswer<{ connections: WsAdminConnection[]; truncated: boolean }>> {
    const answer = await this.ask<WsInstanceListing>('list', { filter }, () => this.instance.list(filter));
    const connections = answer.replies.flatMap((r) => r.connections);
    return { complete: answer.complete, instances: answer.replies.map((r) => r.instanceId), result: { connections, truncated: answer.replies.some((r) => r.truncated) } };
  }

  /** Closes the connections of `target` on every instance; the result is how many. */
  async disconnect(target: WsLiveTarget, code: number, reason: string): Promise<WsClusterAnswer<{ closed: number }>> {
    const answer = await this.ask<{ instanceId: string; closed: number }>('disconnect', { target, code, reason }, () => ({ instanceId: this.instance.instanceId, closed: this.instance.disconnect(target, code, reason) }));
    return { complete: answer.complete, instances: answer.replies.map((r) => r.instanceId), result: { closed: answer.replies.reduce((n, r) => n + r.closed, 0) } };
  }

  /** Starts (level) or ends (undefined) a debug session of `target` on every instance. */
  async debug(target: WsLiveTarget, level: WsLogLevel | undefined, durationMs: number): Promise<WsClusterAnswer<{ until: string | undefined }>> {
    const until = level ? Date.now() + durationMs : 0;
    const answer = await this.ask<{ instanceId: string }>('debug', { target, level, until }, () => {
      this.instance.debug(target, level, until);
      return { instanceId: this.instance.instanceId };
    });
    return { complete: answer.complete, instances: answer.replies.map((r) => r.instanceId), result: { until: level ? new Date(until).toISOString() : undefined } };
  }

  /** Live traces open on this instance. */
  get watchCount(): number {
    return this.streams.size;
  }

  /** Opens a live trace on `stream`; every instance sends it the events of `target` until `durationMs` has passed. */
  async watch(target: WsLiveTarget, payloads: boolean, durationMs: number, stream: WsWatchStream): Promise<string> {
    const spec: WsWatchSpec = { watchId: randomUUID(), target, payloads: payloads && this.options.allowPayloads, until: Date.now() + durationMs };
    const timer = setTimeout(() => this.endWatch(spec.watchId, 'expired'), durationMs);
    timer.unref();
    this.streams.set(spec.watchId, { stream, spec, timer });
    const answer = await this.ask<{ instanceId: string }>('watch', { ...spec, origin: this.instance.instanceId }, () => {
      this.instance.watch(spec, (event) => stream.push(event), 'slow_reader');
      return { instanceId: this.instance.instanceId };
    });
    this.logWatch(spec, WS_LOG_MESSAGES.adminWatchStarted);
    stream.start({
      [LF.type]: LIVE.watch,
      [LF.at]: Date.now(),
      [F.watchId]: spec.watchId,
      [F.target]: target,
      payloads: spec.payloads,
      [F.until]: new Date(spec.until).toISOString(),
      instances: answer.replies.map((r) => r.instanceId),
      complete: answer.complete,
    });
    return spec.watchId;
  }

  /** Ends a watch held here: its stream (with an `end` event) and its subscriptions on every instance. */
  endWatch(watchId: string, reason: string): void {
    const held = this.streams.get(watchId);
    if (!held) return;
    this.streams.delete(watchId);
    clearTimeout(held.timer);
    held.stream.end(reason);
    this.logWatch(held.spec, WS_LOG_MESSAGES.adminWatchEnded, reason);
    void this.ask('unwatch', { watchId }, () => this.instance.unwatch(watchId));
  }

  beforeApplicationShutdown(): void {
    // Before the HTTP server closes: an open stream must not hold it.
    for (const watchId of [...this.streams.keys()]) this.endWatch(watchId, 'shutdown');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.announcer);
    await this.bus?.stop();
  }

  private announce(): void {
    for (const { spec } of this.streams.values()) void this.bus?.request('watch', { ...spec, origin: this.instance.instanceId }, this.options.requestTimeoutMs);
  }

  /** A command from any instance (this one included), run here. */
  private run(command: WsAdminCommand): unknown {
    const read = readCommand(command);
    if (read === undefined) return undefined;
    switch (read.kind) {
      case 'list':
        return this.instance.list(read.filter);
      case 'disconnect':
        return { instanceId: this.instance.instanceId, closed: this.instance.disconnect(read.target, read.code, read.reason) };
      case 'debug':
        this.instance.debug(read.target, read.level, read.until);
        return { instanceId: this.instance.instanceId };
      case 'watch': {
        const held = read.origin === this.instance.instanceId ? this.streams.get(read.spec.watchId) : undefined;
        if (held) this.instance.watch(read.spec, (event) => held.stream.push(event), 'slow_reader');
        else if (read.origin !== this.instance.instanceId) this.instance.watch(read.spec, (event) => this.bus?.publishTrace(read.origin, read.spec.watchId, event) ?? false, 'backlog');
        return { instanceId: this.instance.instanceId };
      }
      case 'unwatch':
        this.instance.unwatch(read.watchId);
        return { instanceId: this.instance.instanceId };
    }
  }

  /** Every instance's reply to a command, or this instance's alone (complete without Redis, incomplete while Redis is away). */
  private async ask<R>(kind: WsAdminCommandKind, body: Record<string, unknown>, local: () => unknown): Promise<{ replies: R[]; complete: boolean }> {
    if (this.bus) {
      const answer = await this.bus.request(kind, body, this.options.requestTimeoutMs);
      if (answer) return { replies: answer.replies.filter((r): r is R => typeof r === 'object' && r !== null), complete: answer.complete };
    }
    const reply = local();
    return { replies: reply === undefined ? [] : [reply as R], complete: this.bus === undefined };
  }

  private logWatch(spec: WsWatchSpec, msg: string, reason?: string): void {
    const logger = this.log.logger;
    if (!logger.isLevelEnabled('info')) return;
    logger.info({ [F.watchId]: spec.watchId, [F.target]: spec.target.connection !== undefined ? `c:${spec.target.connection}` : `u:${spec.target.user}`, [F.reason]: reason, [F.instanceId]: this.instance.instanceId }, msg);
  }
}
