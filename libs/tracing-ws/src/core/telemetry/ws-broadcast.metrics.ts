import { Inject, Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { WS_METRIC_LABELS as L, WS_METRIC_NAMES as N } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

type CounterChild = ReturnType<Counter<string>['labels']>;

/**
 * What failed: `publish` (Redis down or refused: not sent), `timeout` (no answer in
 * time: it may still have been delivered), `backlog` (too many publishes waiting:
 * not sent), `stale` (received too late: dropped), `decode` (not an envelope),
 * `presence` (a presence write Redis refused or lost).
 */
export type WsBroadcastFailure = 'publish' | 'timeout' | 'backlog' | 'stale' | 'decode' | 'presence';
const FAILURES: readonly WsBroadcastFailure[] = ['publish', 'timeout', 'backlog', 'stale', 'decode', 'presence'];

/** Lag buckets (seconds): pub/sub hops are sub-millisecond on a LAN, seconds when something is wrong. */
const LAG_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Scale-out metrics: `ws_broadcast_backend_up`, `ws_broadcast_published_total`,
 * `ws_broadcast_received_total`, `ws_broadcast_failed_total{reason}` and
 * `ws_broadcast_lag_seconds` (publish to delivery on the receiving instance).
 */
@Injectable()
export class WsBroadcastMetrics {
  readonly backendUp: Gauge<string>;
  readonly published: Counter<string>;
  readonly received: Counter<string>;
  readonly lag: Histogram<string>;
  private readonly failures = new Map<WsBroadcastFailure, CounterChild>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    const prefix = options.metrics.prefix;
    const make = <T>(type: 'Counter' | 'Gauge' | 'Histogram', name: string, help: string, labelNames: string[], buckets?: number[]): T =>
      getOrCreateMetric(type, { name: prefix + name, help, labelNames, ...(buckets ? { buckets } : {}) }) as T;
    this.backendUp = make('Gauge', N.broadcastBackendUp, '1 when cross-instance broadcasts can flow (always 1 in-memory), else 0.', []);
    this.published = make('Counter', N.broadcastPublished, 'Broadcast envelopes published to other instances.', []);
    this.received = make('Counter', N.broadcastReceived, 'Broadcast envelopes received from other instances.', []);
    const failed = make<Counter<string>>('Counter', N.broadcastFailed, 'Broadcast envelopes and presence writes lost, by reason (publish, timeout, backlog, stale, decode, presence).', [L.reason]);
    this.lag = make('Histogram', N.broadcastLag, 'Time from publication on one instance to delivery on another.', [], LAG_BUCKETS);
    for (const reason of FAILURES) {
      const child = failed.labels(reason);
      // The series exist from the start, so dashboards show 0 rather than no data.
      child.inc(0);
      this.failures.set(reason, child);
    }
  }

  failed(reason: WsBroadcastFailure): void {
    this.failures.get(reason)!.inc();
  }
}
