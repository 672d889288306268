import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { exposeMetrics, prefersOpenMetrics } from './ws-metrics.exposition.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/** A Prometheus-format registry as an app has it: counters, a gauge, and an exemplar-capable histogram. */
function appRegistry(): Registry {
  const registry = new Registry();
  new Counter({ name: 'ws_messages_received_total', help: 'Frames received.', labelNames: ['event'], registers: [registry] }).inc({ event: 'echo' }, 3);
  new Counter({ name: 'jobs', help: 'A counter named without _total.', registers: [registry] }).inc();
  new Gauge({ name: 'ws_connections_active', help: 'Open connections.', registers: [registry] }).set(2);
  const histogram = new Histogram<string>({ name: 'ws_message_duration_seconds', help: 'Handler duration.', labelNames: ['event'], buckets: [0.01, 0.1], enableExemplars: true, registers: [] });
  registry.registerMetric(histogram);
  histogram.observe({ labels: { event: 'echo' }, value: 0.05, exemplarLabels: { trace_id: TRACE_ID } });
  histogram.labels({ event: 'echo' }).observe(0.005);
  return registry;
}

const PROMETHEUS_2 = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROMETHEUS_3 =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1';

describe('prefersOpenMetrics', () => {
  it.each([
    ['Prometheus 2', PROMETHEUS_2],
    ['Prometheus 3', PROMETHEUS_3],
    ['a bare OpenMetrics range', 'application/openmetrics-text'],
    ['OpenMetrics 0.0.1 only', 'application/openmetrics-text; version=0.0.1'],
  ])('says yes to %s', (_who, accept) => expect(prefersOpenMetrics(accept)).toBe(true));

  it.each([
    ['no header', undefined],
    ['curl', '*/*'],
    ['a browser', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
    ['the Prometheus text format', 'text/plain; version=0.0.4'],
    ['OpenMetrics refused', 'application/openmetrics-text;q=0, text/plain'],
    ['OpenMetrics below text', 'text/plain, application/openmetrics-text;q=0.5'],
    ['an OpenMetrics version prom-client does not render', 'application/openmetrics-text; version=2.0.0'],
    ['a malformed q-value', 'application/openmetrics-text;q=high'],
  ])('says no to %s', (_who, accept) => expect(prefersOpenMetrics(accept)).toBe(false));
});

describe('exposeMetrics', () => {
  it('answers a scraper that does not ask for OpenMetrics with the registry\'s own Prometheus text, counters ending in _total, no exemplar', async () => {
    const registry = appRegistry();
    const scrape = await exposeMetrics(registry, '*/*');
    expect(scrape).toEqual({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: await registry.metrics() });
    expect(scrape.body).toContain('# TYPE ws_messages_received_total counter\nws_messages_received_total{event="echo"} 3\n');
    expect(scrape.body).toContain('# TYPE jobs counter\njobs 1\n');
    expect(scrape.body).not.toMatch(/ # \{/);
    expect(scrape.body).not.toContain(TRACE_ID);
  });

  it('answers an OpenMetrics scraper with OpenMetrics: counter families, exemplars on buckets, # EOF', async () => {
    const { contentType, body } = await exposeMetrics(appRegistry(), PROMETHEUS_2);
    expect(contentType).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(body).toContain('# TYPE ws_messages_received counter\nws_messages_received_total{event="echo"} 3\n');
    expect(body).toContain('# TYPE jobs counter\njobs_total 1\n');
    expect(body).toContain('# TYPE ws_connections_active gauge\nws_connections_active 2\n');
    expect(body).toMatch(new RegExp(`^ws_message_duration_seconds_bucket\\{le="0.1",event="echo"\\} 2 # \\{trace_id="${TRACE_ID}"\\} 0.05 \\d+(\\.\\d+)?$`, 'm'));
    expect(body).toMatch(/^ws_message_duration_seconds_bucket\{le="0.01",event="echo"\} 1$/m);
    expect(body.endsWith('\n# EOF\n')).toBe(true);
    expect(body).not.toMatch(/\n\n/);
  });

  it('leaves the registry as it was: Prometheus text is the same before and after, and during, an OpenMetrics scrape', async () => {
    const registry = appRegistry();
    const before = await registry.metrics();
    const [prometheus, openMetrics] = await Promise.all([exposeMetrics(registry, undefined), exposeMetrics(registry, PROMETHEUS_3)]);
    expect(prometheus.body).toBe(before);
    expect(openMetrics.body).toContain('ws_messages_received_total{event="echo"} 3');
    expect(await registry.metrics()).toBe(before);
    expect(registry.contentType).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
  });

  it('keeps the registry\'s default labels in OpenMetrics', async () => {
    const registry = appRegistry();
    registry.setDefaultLabels({ service: 'chat' });
    const { body } = await exposeMetrics(registry, PROMETHEUS_2);
    expect(body).toContain('ws_messages_received_total{event="echo",service="chat"} 3');
    expect(body).toContain('ws_connections_active{service="chat"} 2');
  });

  it('is needed: switching prom-client\'s registry to OpenMetrics renames its counters for good', async () => {
    const registry = appRegistry() as unknown as Registry<RegistryContentType>;
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    await registry.metrics();
    registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
    expect(await registry.metrics()).toContain('ws_messages_received{event="echo"} 3');
  });
});
