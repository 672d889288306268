import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { SpanContext } from '@opentelemetry/api';
import { Histogram } from 'prom-client';
import { EXEMPLAR_INTERVAL_MS, ExemplarSeries } from './ws-exemplars.js';

const BUCKETS = [0.001, 0.01, 0.1];
const LABELS = { path: '/ws', transport: 'ws', event: 'echo', outcome: 'ok' };

const span = (n: number, sampled = true): SpanContext => ({
  traceId: n.toString(16).padStart(32, '0'),
  spanId: n.toString(16).padStart(16, '0'),
  traceFlags: sampled ? 1 : 0,
});

function histogram(enableExemplars = true): Histogram<string> {
  return new Histogram({ name: 'duration_seconds', help: 'h', labelNames: Object.keys(LABELS), buckets: BUCKETS, enableExemplars, registers: [] });
}

/** Bucket bound (`le`) → the trace id of its exemplar, and the series' count. */
async function read(h: Histogram<string>): Promise<{ exemplars: Record<string, string>; count: number }> {
  const { values } = await h.get();
  const exemplars: Record<string, string> = {};
  let count = 0;
  for (const v of values as Array<{ metricName?: string; labels: Record<string, string | number>; value: number; exemplar?: { labelSet: Record<string, string> } | null }>) {
    if (v.metricName?.endsWith('_bucket') && v.exemplar) exemplars[String(v.labels.le)] = v.exemplar.labelSet.trace_id!;
    if (v.metricName?.endsWith('_count')) count = v.value;
  }
  return { exemplars, count };
}

describe('ExemplarSeries', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('makes a sampled span the exemplar of the bucket its value falls in (le inclusive), with trace and span ids', async () => {
    const h = histogram();
    const series = new ExemplarSeries(h, LABELS, BUCKETS, true);
    series.observe(0.01, span(1));
    series.observe(5, span(2));
    const { values } = await h.get();
    const onBucket = (le: number | string) => values.find((v) => (v as { metricName?: string }).metricName === 'duration_seconds_bucket' && v.labels.le === le) as { exemplar?: unknown };
    expect(onBucket(0.01).exemplar).toMatchObject({ labelSet: { trace_id: span(1).traceId, span_id: span(1).spanId }, value: 0.01 });
    expect(onBucket('+Inf').exemplar).toMatchObject({ labelSet: { trace_id: span(2).traceId }, value: 5 });
    expect(await read(h)).toEqual({ exemplars: { '0.01': span(1).traceId, '+Inf': span(2).traceId }, count: 2 });
  });

  it('never takes an unsampled span, yet counts its observation', async () => {
    const h = histogram();
    const series = new ExemplarSeries(h, LABELS, BUCKETS, true);
    series.observe(0.0005, span(1, false));
    expect(await read(h)).toEqual({ exemplars: {}, count: 1 });
  });

  it(`records at most one exemplar per bucket per ${EXEMPLAR_INTERVAL_MS} ms, each bucket on its own`, async () => {
    const h = histogram();
    const series = new ExemplarSeries(h, LABELS, BUCKETS, true);
    series.observe(0.0005, span(1));
    series.observe(0.0006, span(2));
    series.observe(0.05, span(3));
    expect(await read(h)).toEqual({ exemplars: { '0.001': span(1).traceId, '0.1': span(3).traceId }, count: 3 });
    jest.advanceTimersByTime(EXEMPLAR_INTERVAL_MS - 1);
    series.observe(0.0007, span(4));
    expect((await read(h)).exemplars['0.001']).toBe(span(1).traceId);
    jest.advanceTimersByTime(1);
    series.observe(0.0008, span(5));
    expect(await read(h)).toEqual({ exemplars: { '0.001': span(5).traceId, '0.1': span(3).traceId }, count: 5 });
  });

  it('records none when exemplars are off, or on a histogram made without them', async () => {
    for (const [h, on] of [[histogram(), false], [histogram(false), true]] as const) {
      const series = new ExemplarSeries(h, LABELS, BUCKETS, on);
      series.observe(0.0005, span(1));
      series.observe(0.5, span(2));
      expect(await read(h)).toEqual({ exemplars: {}, count: 2 });
    }
  });
});
