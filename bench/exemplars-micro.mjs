// The per-message cost of ws_message_duration_seconds' exemplars, isolated from the rest of
// the hot path (which bench/run.mjs measures with BENCH_EXEMPLARS=on|off; see server.mjs).
//   node bench/exemplars-micro.mjs        (after npm run build)
// Times ExemplarSeries.observe, the call the dispatcher makes per message, for: exemplars
// off; on, sampled spans (the shipped gate: at most one per bucket per second); on,
// unsampled spans; and prom-client's labelled observe with an exemplar on every call (what
// recording each sampled message would cost without the gate).
import { Histogram } from 'prom-client';
import { ExemplarSeries } from '../libs/tracing-ws/dist/core/telemetry/ws-exemplars.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = { path: '/ws', transport: 'ws', event: 'echo', outcome: 'ok' };
const N = 1_000_000;
const ROUNDS = 5;
const histogram = new Histogram({ name: 'd', help: 'd', labelNames: Object.keys(LABELS), buckets: BUCKETS, enableExemplars: true, registers: [] });
const spans = Array.from({ length: 64 }, (_, i) => ({ traceId: i.toString(16).padStart(32, '0'), spanId: i.toString(16).padStart(16, '0'), traceFlags: 1 }));
const unsampled = spans.map((s) => ({ ...s, traceFlags: 0 }));
const value = (i) => 0.0002 + (i % 50) * 0.0001; // 0.2–5.1 ms: spread over 5 buckets

const cases = {
  'exemplars off': (off) => (i) => off.observe(value(i), spans[i & 63]),
  'on, sampled (shipped: gated)': (on) => (i) => on.observe(value(i), spans[i & 63]),
  'on, unsampled': (on) => (i) => on.observe(value(i), unsampled[i & 63]),
  'ungated: labelled observe + exemplar every call': () => (i) =>
    histogram.observe({ labels: LABELS, value: value(i), exemplarLabels: { trace_id: spans[i & 63].traceId, span_id: spans[i & 63].spanId } }),
};
const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(cases)) {
    const series = new ExemplarSeries(histogram, LABELS, BUCKETS, name !== 'exemplars off');
    const call = make(series);
    const start = performance.now();
    for (let i = 0; i < N; i++) call(i);
    results[name].push(((performance.now() - start) * 1e6) / N);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const [name, ns] of Object.entries(results)) console.log(`${name.padEnd(48)} ${median(ns).toFixed(0).padStart(6)} ns/message (median of ${ROUNDS} × ${N.toLocaleString('en')})`);
