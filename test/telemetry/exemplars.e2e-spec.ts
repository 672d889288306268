import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WsAdapter } from '@nestjs/platform-ws';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, TracingWsMetricsController } from '@tracing-ws/nestjs';
import { register } from 'prom-client';
import { byoGateway } from '../dispatch/interceptor/byo.gateway.js';
import { startApp, type TestApp } from '../support/app.js';
import { exemplarsOf, metricValue, OPENMETRICS_ACCEPT } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/exemplars' })
class ExemplarGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

@TracedGateway()
@WebSocketGateway({ path: '/no-exemplars' })
class NoExemplarGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

const DURATION = 'ws_message_duration_seconds_bucket';

/** `GET /metrics` with `accept`: status, the headers that matter, body. */
async function scrape(t: TestApp, accept?: string): Promise<{ status: number; contentType: string | null; vary: string | null; body: string }> {
  const res = await fetch(`${t.httpUrl}/metrics`, accept ? { headers: { accept } } : {});
  return { status: res.status, contentType: res.headers.get('content-type'), vary: res.headers.get('vary'), body: await res.text() };
}

/** A scrape without the samples every scrape changes (the HTTP duration of `GET /metrics` itself). */
const stable = (text: string): string => text.split('\n').filter((l) => !l.includes('route="/metrics"')).join('\n');

/** Metric family name → type, as declared by `# TYPE`. */
const familiesOf = (text: string): Map<string, string> => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));

describe('/metrics served by TracingWsMetricsController', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let traceId: string;

  beforeAll(async () => {
    t = await startApp({ gateways: [ExemplarGateway], metricsController: TracingWsMetricsController });
    const socket = await connect(`${t.wsUrl}/exemplars`);
    try {
      traceId = (await socket.request('echo', 1)).meta!.traceId!;
    } finally {
      await socket.close();
    }
    await waitFor(async () => exemplarsOf(await t.metrics(OPENMETRICS_ACCEPT), DURATION, { path: '/exemplars' }).length > 0, 5000, 'the exemplar');
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('answers a scraper that does not ask for OpenMetrics in the Prometheus text format, exactly the default registry\'s, before and after OpenMetrics scrapes', async () => {
    const first = await scrape(t);
    await Promise.all([scrape(t, OPENMETRICS_ACCEPT), scrape(t, OPENMETRICS_ACCEPT)]);
    const [plain, curl] = await Promise.all([scrape(t), scrape(t, '*/*')]);
    expect({ ...plain, body: stable(plain.body) }).toEqual({ status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', vary: 'Accept', body: stable(first.body) });
    expect(stable(curl.body)).toBe(stable(first.body));
    expect(stable(first.body)).toBe(stable(await register.metrics()));
    // Counters keep _total, and no exemplar (the format has no place for one).
    expect(metricValue(first.body, 'ws_messages_received_total', { path: '/exemplars', event: 'echo' })).toBe(1);
    expect(familiesOf(first.body).get('ws_connections_opened_total')).toBe('counter');
    expect(first.body).not.toMatch(/ # \{/);
    expect(first.body).not.toContain(traceId);
  });

  it('answers an OpenMetrics scraper in OpenMetrics, with the message\'s trace id on its duration bucket and # EOF at the end', async () => {
    const { status, contentType, vary, body } = await scrape(t, OPENMETRICS_ACCEPT);
    expect({ status, contentType, vary }).toEqual({ status: 200, contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', vary: 'Accept' });
    const [exemplar] = exemplarsOf(body, DURATION, { path: '/exemplars', transport: 'ws', event: 'echo', outcome: 'ok' });
    expect(exemplar?.exemplar.trace_id).toBe(traceId);
    expect(body.endsWith('\n# EOF\n')).toBe(true);
    expect(body.indexOf('# EOF')).toBe(body.length - '# EOF\n'.length);
    expect(body).not.toMatch(/\n\n/);
  });

  it('declares in OpenMetrics the families of the Prometheus text, counters by their family name, each sample under a declared family', async () => {
    const prometheus = familiesOf((await scrape(t)).body);
    const openMetricsText = (await scrape(t, OPENMETRICS_ACCEPT)).body;
    const openMetrics = familiesOf(openMetricsText);
    const expected = new Map([...prometheus].map(([name, type]) => [type === 'counter' ? name.replace(/_total$/, '') : name, type]));
    expect(openMetrics).toEqual(expected);
    expect(openMetricsText.match(/^# TYPE /gm)).toHaveLength(openMetrics.size);
    const suffixes: Record<string, string[]> = { counter: ['_total', '_created'], gauge: [''], histogram: ['_bucket', '_sum', '_count', '_created'], summary: ['', '_sum', '_count', '_created'] };
    for (const m of openMetricsText.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) {
      const sample = m[1]!;
      const owner = [...openMetrics].find(([family, type]) => suffixes[type]!.some((suffix) => sample === family + suffix));
      expect([sample, owner !== undefined]).toEqual([sample, true]);
    }
    expect(metricValue(openMetricsText, 'ws_messages_received_total', { path: '/exemplars', event: 'echo' })).toBe(1);
  });
});

describe('metrics.exemplars: false', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ gateways: [NoExemplarGateway], metricsController: TracingWsMetricsController, tracing: { metrics: { exemplars: false } } });
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('records the durations of sampled messages without exemplars', async () => {
    const socket = await connect(`${t.wsUrl}/no-exemplars`);
    try {
      for (let i = 0; i < 3; i++) await socket.request('echo', i);
    } finally {
      await socket.close();
    }
    const body = await t.metrics(OPENMETRICS_ACCEPT);
    expect(metricValue(body, 'ws_message_duration_seconds_count', { path: '/no-exemplars', event: 'echo', outcome: 'ok' })).toBe(3);
    expect(exemplarsOf(body, DURATION, { path: '/no-exemplars' })).toEqual([]);
  });
});

describe('exemplars on the WsTracingInterceptor path (a stock WsAdapter)', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ gateways: [byoGateway({ path: '/byo-exemplars' })], metricsController: TracingWsMetricsController, adapter: (app) => new WsAdapter(app) });
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('gives the duration bucket the trace id of the intercepted message', async () => {
    const socket = await connect(`${t.wsUrl}/byo-exemplars`);
    try {
      const reply = await socket.request('whoami', null);
      const found = await waitFor(async () => {
        const all = exemplarsOf(await t.metrics(OPENMETRICS_ACCEPT), DURATION, { path: '/byo-exemplars', event: 'whoami', outcome: 'ok' });
        return all.length > 0 && all;
      }, 5000, 'an exemplar on the whoami series');
      expect(found.map((e) => e.exemplar.trace_id)).toEqual([reply.meta!.traceId]);
    } finally {
      await socket.close();
    }
  });
});
