import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBinaries } from '../support/binaries.js';
import { freePort } from '../support/redis-server.js';
import type { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { ALERTING_INSTALL, composePrometheusFeatures, paced, PROMETHEUS, promQuery, startPrometheus, type ServiceProcess } from './alerting-stack.js';
import { ALLOWED_ORIGIN, startSample } from './sample-traffic.js';
import { SPEED_UP } from './speed-up.js';

// Issue 18, "exemplars": the sample's /metrics (TracingWsMetricsController) scraped by a
// real Prometheus, run with the shipped config and the flags of docker-compose.yml, which
// asks for OpenMetrics on its own and stores the trace ids of message spans as exemplars.

interface StoredExemplars {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

describeWithBinaries('a real Prometheus with exemplar storage, scraping the sample', { prometheus: PROMETHEUS }, ALERTING_INSTALL, () => {
  let dir: string;
  let sample: SampleProcess;
  let prometheus: ServiceProcess;
  const traceIds = new Map<string, string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exemplars-'));
    sample = await startSample();
    // No alert is under test here; the notifier is given a port nothing listens on.
    prometheus = await startPrometheus(dir, { sample: `127.0.0.1:${sample.port}`, alertmanager: `127.0.0.1:${await freePort()}` }, SPEED_UP);
    const alice = await connect(`${sample.wsUrl}/chat`, { origin: ALLOWED_ORIGIN, headers: { authorization: 'Bearer alice-token' } });
    try {
      traceIds.set('join', (await alice.request('join', { room: 'ops' }, 'joined')).meta!.traceId!);
      traceIds.set('message', (await alice.request('message', { room: 'ops', text: 'hello' }, 'sent')).meta!.traceId!);
    } finally {
      await alice.close();
    }
  }, 60000);
  afterAll(async () => {
    await prometheus?.stop();
    await sample?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs Prometheus with the flag docker-compose.yml gives it', () => {
    expect(composePrometheusFeatures()).toContain('--enable-feature=exemplar-storage');
  });

  it('scrapes the sample without an error, counters under their _total names', async () => {
    const target = await waitFor(
      paced(async () => {
        const res = (await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string; labels: Record<string, string> }> } };
        const found = res.data.activeTargets.find((t) => t.labels.job === 'sample');
        return found?.health === 'up' && found;
      }),
      20000,
      'the sample target up',
    );
    expect(target.lastError).toBe('');
    const received = await waitFor(
      paced(async () => {
        const result = await promQuery(prometheus, 'ws_messages_received_total{event="message"}');
        return result.length > 0 && result;
      }),
      20000,
      'ws_messages_received_total in Prometheus',
    );
    expect(received[0]!.value).toBe(1);
  });

  it('stores the trace ids of the messages as exemplars of ws_message_duration_seconds, per event', async () => {
    const stored = await waitFor(
      paced(async () => {
        const now = Date.now() / 1000;
        const query = new URLSearchParams({ query: 'ws_message_duration_seconds_bucket{path="/chat"}', start: String(now - 300), end: String(now + 60) });
        const res = (await (await fetch(`${prometheus.url}/api/v1/query_exemplars?${query}`)).json()) as { status: string; data: StoredExemplars[] };
        const byEvent = new Map(res.data.map((s) => [s.seriesLabels.event, s.exemplars.map((e) => e.labels.trace_id)]));
        return byEvent.has('join') && byEvent.has('message') && byEvent;
      }),
      20000,
      `exemplars in Prometheus (its log:\n${prometheus?.log ?? ''})`,
    );
    expect(stored.get('join')).toContain(traceIds.get('join'));
    expect(stored.get('message')).toContain(traceIds.get('message'));
  });
});
