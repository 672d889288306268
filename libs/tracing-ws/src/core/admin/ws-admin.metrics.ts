import { Inject, Injectable } from '@nestjs/common';
import { getOrCreateMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { WS_METRIC_LABELS as L, WS_METRIC_NAMES as N } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/**
 * Why a live trace event was dropped: over the watch's events per second (`rate`), too
 * many events waiting for Redis (`backlog`), or an operator's stream not reading (`slow_reader`).
 */
export type WsAdminDropReason = 'rate' | 'backlog' | 'slow_reader';

/** The admin surface's metric: `ws_admin_trace_dropped_total{reason}`. Internal. */
@Injectable()
export class WsAdminMetrics {
  private readonly droppedCounter: Counter<string>;

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    this.droppedCounter = getOrCreateMetric('Counter', {
      name: `${options.metrics.prefix}${N.adminTraceDropped}`,
      help: 'Live trace events dropped rather than delayed, by reason: over the events per second of a watch, waiting for Redis, or a stream not reading.',
      labelNames: [L.reason],
    }) as Counter<string>;
    for (const reason of ['rate', 'backlog', 'slow_reader'] as const) this.droppedCounter.labels(reason);
  }

  dropped(reason: WsAdminDropReason): void {
    this.droppedCounter.labels(reason).inc();
  }
}
