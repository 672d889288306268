import { Inject, Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge } from 'prom-client';
import { WS_METRIC_LABELS as L, WS_METRIC_NAMES as N } from '../model/tracing-ws.names.js';
import { WS_RECOVERY_FAILURES, type WsRecoveryFailure } from '../model/ws-protocol.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

type CounterChild = ReturnType<Counter<string>['labels']>;
type SizeSource = () => { entries: number; bytes: number };

/**
 * The in-memory histories of this process, read at each scrape (never on the broadcast
 * path). Process-wide like the registry the gauges live in: apps sharing a process share them.
 */
const SOURCES = new Set<SizeSource>();
const sum = (key: 'entries' | 'bytes'): number => {
  let total = 0;
  for (const source of SOURCES) total += source()[key];
  return total;
};

/**
 * Room history metrics: `ws_history_recovered_messages_total` (broadcasts replayed to
 * clients that missed them), `ws_history_recoveries_failed_total{reason}` (gap, epoch,
 * unavailable: a bounded set), and the in-memory history's size, `ws_history_entries`
 * and `ws_history_bytes` (0 with the Redis history, which Redis itself measures).
 */
@Injectable()
export class WsHistoryMetrics {
  readonly recovered: Counter<string>;
  readonly entries: Gauge<string>;
  readonly bytes: Gauge<string>;
  private readonly failures = new Map<WsRecoveryFailure, CounterChild>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    const prefix = options.metrics.prefix;
    const make = <T>(type: 'Counter' | 'Gauge', name: string, help: string, labelNames: string[], collect?: (this: Gauge<string>) => void): T =>
      getOrCreateMetric(type, { name: prefix + name, help, labelNames, ...(collect ? { collect } : {}) }) as T;
    this.recovered = make('Counter', N.historyRecovered, 'Room broadcasts replayed from the history to clients that had missed them.', []);
    const failed = make<Counter<string>>('Counter', N.historyRecoveriesFailed, 'Recoveries that could not replay what a client missed, by reason (gap, epoch, unavailable).', [L.reason]);
    this.entries = make('Gauge', N.historyEntries, 'Broadcasts held by the in-memory room history.', [], function () {
      this.set(sum('entries'));
    });
    this.bytes = make('Gauge', N.historyBytes, 'Bytes held by the in-memory room history (frames and room records).', [], function () {
      this.set(sum('bytes'));
    });
    for (const reason of WS_RECOVERY_FAILURES) {
      const child = failed.labels(reason);
      // The series exist from the start, so dashboards show 0 rather than no data.
      child.inc(0);
      this.failures.set(reason, child);
    }
  }

  /** Counts `source` in the gauges until the returned function is called. */
  observe(source: SizeSource): () => void {
    SOURCES.add(source);
    return () => SOURCES.delete(source);
  }

  failed(reason: WsRecoveryFailure): void {
    this.failures.get(reason)!.inc();
  }
}
