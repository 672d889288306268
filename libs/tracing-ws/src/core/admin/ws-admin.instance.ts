import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { WsBroadcaster } from '../broadcast/ws.broadcaster.js';
import { closeConnection } from '../connection/ws-connection.close.js';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { ADMIN_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsAdminOptions } from '../options/tracing-ws-admin.options.js';
import type { WsLogLevel } from '../options/tracing-ws.options.js';
import { WsLiveTap, type WsLiveTarget } from '../telemetry/ws-live.tap.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsAdminMetrics } from './ws-admin.metrics.js';
import { compileRedactPaths, redactPayload } from './ws-admin.redact.js';
import { matches, MAX_LISTED_PER_INSTANCE, snapshot, type WsAdminConnection, type WsAdminFilter } from './ws-admin.snapshot.js';
import { WsWatchSubscription, type WsWatchOutput } from './ws-admin.subscription.js';

/** What one instance answers to a listing. */
export interface WsInstanceListing {
  readonly instanceId: string;
  readonly connections: WsAdminConnection[];
  /** More connections matched than one instance lists. */
  readonly truncated: boolean;
}

/** A watch as every instance is told about it. */
export interface WsWatchSpec {
  readonly watchId: string;
  readonly target: WsLiveTarget;
  readonly payloads: boolean;
  /** When it ends on its own (ms since the epoch), even if its end is never heard. */
  readonly until: number;
}

interface LocalWatch {
  readonly stop: () => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * What one instance does for the admin surface, whoever asked (this instance's
 * routes, or another instance through Redis): list and close its own connections,
 * subscribe a watch to its tap, raise a debug session's lines. Internal.
 */
@Injectable()
export class WsAdminInstance implements OnApplicationShutdown {
  readonly instanceId: string;
  private readonly watches = new Map<string, LocalWatch>();
  private readonly debugTimers = new Map<string, NodeJS.Timeout>();
  private readonly redactPaths: ReadonlyArray<readonly string[]>;

  constructor(
    @Inject(ADMIN_OPTIONS) private readonly options: ResolvedTracingWsAdminOptions,
    private readonly broadcaster: WsBroadcaster,
    private readonly tap: WsLiveTap,
    private readonly log: WsLogger,
    private readonly metrics: WsAdminMetrics,
  ) {
    this.instanceId = broadcaster.instanceId;
    this.redactPaths = compileRedactPaths(options.redactPaths);
  }

  list(filter: WsAdminFilter): WsInstanceListing {
    const connections: WsAdminConnection[] = [];
    let truncated = false;
    for (const state of this.broadcaster.localConnections(filter.user)) {
      if (!matches(state, filter)) continue;
      if (connections.length === MAX_LISTED_PER_INSTANCE) {
        truncated = true;
        break;
      }
      connections.push(snapshot(state, this.broadcaster.roomsOf(state.transport.client), this.instanceId));
    }
    return { instanceId: this.instanceId, connections, truncated };
  }

  /** Closes the matching connections of this instance with `code` (closed_by `admin`); returns how many. */
  disconnect(target: WsLiveTarget, code: number, reason: string): number {
    const states: WsConnectionState[] = [];
    for (const state of this.broadcaster.localConnections(target.user)) {
      if (matches(state, target) && state.closedBy === undefined) states.push(state);
    }
    for (const state of states) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('info')) logger.info({ [F.connectionId]: state.context.connectionId, [F.userId]: state.context.user?.id, [F.code]: code, [F.instanceId]: this.instanceId }, WS_LOG_MESSAGES.adminDisconnect);
      closeConnection(state, code, reason, 'admin');
    }
    return states.length;
  }

  /** Subscribes a watch to this instance's tap until `spec.until` or {@link unwatch}. */
  watch(spec: WsWatchSpec, output: WsWatchOutput, backlogReason: 'backlog' | 'slow_reader'): void {
    if (this.watches.has(spec.watchId)) return;
    const payloads = spec.payloads && this.options.allowPayloads;
    const subscription = new WsWatchSubscription(
      payloads,
      this.options.eventsPerSecond,
      output,
      (payload) => redactPayload(payload, this.redactPaths, this.options.maxPayloadChars),
      (reason) => this.metrics.dropped(reason),
      backlogReason,
    );
    const stop = this.tap.subscribe(spec.target, subscription);
    const timer = setTimeout(() => this.unwatch(spec.watchId), Math.max(0, spec.until - Date.now()));
    timer.unref();
    this.watches.set(spec.watchId, { stop, timer });
  }

  unwatch(watchId: string): void {
    const watch = this.watches.get(watchId);
    if (!watch) return;
    this.watches.delete(watchId);
    clearTimeout(watch.timer);
    watch.stop();
  }

  /** Raises (level) or restores (undefined) the message lines of `target` on this instance until `until`. */
  debug(target: WsLiveTarget, level: WsLogLevel | undefined, until: number): void {
    const key = target.connection !== undefined ? `c:${target.connection}` : `u:${target.user}`;
    clearTimeout(this.debugTimers.get(key));
    this.debugTimers.delete(key);
    this.tap.debug(target, level, until);
    const logger = this.log.logger;
    if (logger.isLevelEnabled('info')) {
      logger.info({ [F.target]: key, [F.debugLevel]: level, [F.until]: level ? new Date(until).toISOString() : undefined, [F.instanceId]: this.instanceId }, level ? WS_LOG_MESSAGES.adminDebugStarted : WS_LOG_MESSAGES.adminDebugEnded);
    }
    if (level === undefined) return;
    const timer = setTimeout(() => this.debug(target, undefined, 0), Math.max(0, until - Date.now()));
    timer.unref();
    this.debugTimers.set(key, timer);
  }

  onApplicationShutdown(): void {
    for (const id of [...this.watches.keys()]) this.unwatch(id);
    for (const timer of this.debugTimers.values()) clearTimeout(timer);
    this.debugTimers.clear();
  }
}
