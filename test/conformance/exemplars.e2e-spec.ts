import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { exemplarsOf, OPENMETRICS_ACCEPT } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { accepted, CONFORMANCE_PATH, errorData, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class ExemplarGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('quiet')
  quiet(_client: unknown, data: unknown) {
    return { event: 'quiet', data };
  }

  @SubscribeMessage('fail')
  fail(): never {
    throw new Error('boom');
  }
}

const DURATION = 'ws_message_duration_seconds_bucket';
const hex = (n: number, length: number): string => n.toString(16).padStart(length, '0');

describe.each(TRANSPORTS)('exemplars over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [ExemplarGateway] });
  });
  afterAll(() => app.close());

  /** The exemplars of one event and outcome of the gateway, in the OpenMetrics scrape. */
  const exemplars = async (event: string, outcome: string) => exemplarsOf(await app.metrics(OPENMETRICS_ACCEPT), DURATION, { ...app.gatewayLabels, event, outcome });
  /** Waits for the series to have exemplars (the metric is observed as the reply leaves). */
  const exemplarsSoon = (event: string, outcome: string) =>
    waitFor(async () => {
      const found = await exemplars(event, outcome);
      return found.length > 0 && found;
    }, 5000, `an exemplar on the ${event}/${outcome} series`);

  it('gives the bucket of a sampled message its trace and span ids, in OpenMetrics only', async () => {
    const client = accepted(await app.connect());
    try {
      const reply = await client.request('echo', 1);
      const traceId = reply.meta!.traceId!;
      const span = await app.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === traceId);
      const [exemplar, ...others] = await exemplarsSoon('echo', 'ok');
      expect(others).toEqual([]);
      expect(exemplar!.exemplar).toEqual({ trace_id: traceId, span_id: span.spanContext().spanId });
      // On the bucket the observed duration falls in (le is inclusive), stamped in seconds.
      expect(exemplar!.labels.le === '+Inf' || exemplar!.value <= Number(exemplar!.labels.le)).toBe(true);
      expect(Math.abs(exemplar!.timestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(await app.metrics()).not.toContain(traceId);
    } finally {
      await client.close();
    }
  });

  it('never takes the trace id of an unsampled message; the next sampled one on the series is taken', async () => {
    const client = accepted(await app.connect());
    try {
      const unsampled = `00-${hex(0xdead, 32)}-${hex(0xbeef, 16)}-00`;
      const quiet = await client.request('quiet', 1, { meta: { traceparent: unsampled } });
      expect(quiet.meta?.traceId).toBe(hex(0xdead, 32));
      const scrape = await app.metrics(OPENMETRICS_ACCEPT);
      expect(exemplarsOf(scrape, DURATION, { ...app.gatewayLabels, event: 'quiet' })).toEqual([]);
      expect(scrape).not.toContain(hex(0xdead, 32));

      const sampled = `00-${hex(0xfeed, 32)}-${hex(0xf00d, 16)}-01`;
      await client.request('quiet', 2, { meta: { traceparent: sampled } });
      const found = await exemplarsSoon('quiet', 'ok');
      expect(found.map((e) => e.exemplar.trace_id)).toEqual([hex(0xfeed, 32)]);
    } finally {
      await client.close();
    }
  });

  it('gives a failed message\'s exemplar to the outcome="error" series', async () => {
    const client = accepted(await app.connect());
    try {
      const error = errorData(await client.request('fail', null));
      const found = await exemplarsSoon('fail', 'error');
      expect(found.map((e) => e.exemplar.trace_id)).toEqual([error.traceId]);
      expect(await exemplars('fail', 'ok')).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
