import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('payload limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { maxPayloadBytes: 1024 } });
  });
  afterAll(() => t.close());

  it('closes an oversized frame with 1009, counts it, and keeps serving everyone else', async () => {
    const before = await t.metrics();
    const big = await connect(`${t.wsUrl}/r`);
    const other = await connect(`${t.wsUrl}/r`);
    big.send('echo', 'x'.repeat(2048));
    expect((await big.closed).code).toBe(1009);
    await logs.waitFor({ msg: 'ws.payload_too_large', connection_trace_id: big.upgradeHeaders['x-trace-id'] });
    const after = await t.metrics();
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('ws_message_errors_total', { path: '/r', event: 'invalid', code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
    expect(delta('ws_connections_closed_total', { path: '/r', code: '1009' })).toBe(1);
    expect((await other.request('echo', 'x'.repeat(900))).data).toHaveLength(900);
    await other.close();
  });
});
