import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { Histogram, register, type HistogramConfiguration } from 'prom-client';
import { WS_EXEMPLAR_LABELS as X } from '../model/tracing-ws.names.js';

/**
 * Per series and bucket, how long after an exemplar the next one is recorded. A scrape
 * reads one exemplar per bucket (the latest), and scrapes are seconds apart: recording
 * more often buys nothing, and each one costs a labelled `observe` (label validation and
 * two label hashes: about 1.5 µs more than the bound child's, measured on prom-client 15).
 */
export const EXEMPLAR_INTERVAL_MS = 1000;

/**
 * The histogram `config.name` of prom-client's default registry (the one `/metrics`
 * serves), made able to carry exemplars, or the one already registered under that name
 * (a module compiled twice shares it, as `getOrCreateMetric` does).
 */
export function getOrCreateExemplarHistogram(config: HistogramConfiguration<string>): Histogram<string> {
  const existing = register.getSingleMetric(config.name);
  if (existing) return existing as Histogram<string>;
  // prom-client refuses `enableExemplars` on a registry of the Prometheus text format,
  // because that format cannot show them. The histogram renders there all the same,
  // without them; `exposeMetrics` renders them when a scraper asks for OpenMetrics.
  const histogram = new Histogram({ ...config, enableExemplars: true, registers: [] });
  register.registerMetric(histogram);
  return histogram;
}

/**
 * Observations of one series of a histogram made by {@link getOrCreateExemplarHistogram}
 * (one gateway, event and outcome of `ws_message_duration_seconds`). Every observation
 * goes through the bound child, the hot path's cheap call, except when it should carry
 * an exemplar: the span is sampled (an unsampled trace id leads nowhere) and its bucket
 * has had none for {@link EXEMPLAR_INTERVAL_MS}. prom-client records exemplars only in
 * the labelled `observe({ labels, value, exemplarLabels })`, never in a bound child.
 */
export class ExemplarSeries {
  private readonly child: ReturnType<Histogram<string>['labels']>;
  /** When each bucket (the last one is +Inf) last got an exemplar; absent: exemplars off. */
  private readonly recordedAt: Float64Array | undefined;

  constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: Readonly<Record<string, string>>,
    private readonly buckets: readonly number[],
    exemplars: boolean,
  ) {
    this.child = histogram.labels(labels);
    // A histogram registered by someone else without exemplars cannot take them.
    const capable = (histogram as { enableExemplars?: boolean }).enableExemplars === true;
    this.recordedAt = exemplars && capable ? new Float64Array(buckets.length + 1).fill(-Infinity) : undefined;
  }

  observe(value: number, span: SpanContext): void {
    const recordedAt = this.recordedAt;
    if (recordedAt === undefined || (span.traceFlags & TraceFlags.SAMPLED) === 0) {
      this.child.observe(value);
      return;
    }
    const bucket = bucketOf(this.buckets, value);
    const now = performance.now();
    if (now - recordedAt[bucket]! < EXEMPLAR_INTERVAL_MS) {
      this.child.observe(value);
      return;
    }
    recordedAt[bucket] = now;
    this.histogram.observe({ labels: this.labels, value, exemplarLabels: { [X.traceId]: span.traceId, [X.spanId]: span.spanId } });
  }
}

/** The index of the bucket prom-client counts `value` in (`le` is inclusive); `buckets.length` for +Inf. */
function bucketOf(buckets: readonly number[], value: number): number {
  let i = 0;
  while (i < buckets.length && value > buckets[i]!) i++;
  return i;
}
