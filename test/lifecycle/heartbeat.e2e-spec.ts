import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

const INTERVAL = 150;

describe('heartbeat', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { heartbeat: { intervalMs: INTERVAL } } });
  });
  afterAll(() => t.close());

  it('terminates a peer that stops answering pings within two intervals, and keeps a healthy idle one', async () => {
    const before = metricValue(await t.metrics(), 'ws_heartbeat_timeouts_total', { path: '/r' });
    const healthy = await connect(`${t.wsUrl}/r`);
    let pings = 0;
    healthy.ws.on('ping', () => pings++);
    const silent = await connect(`${t.wsUrl}/r`, { autoPong: false });
    const started = Date.now();
    const closed = await silent.closed;
    const elapsed = Date.now() - started;
    expect(closed.code).toBe(1006);
    // First tick marks it, the second finds no pong: gone within two intervals (plus scheduling slack).
    expect(elapsed).toBeLessThan(2 * INTERVAL + 200);
    const line = await logs.waitFor({ msg: 'ws.heartbeat_timeout' });
    expect(line.connection_trace_id).toBe(silent.upgradeHeaders['x-trace-id']);
    expect(metricValue(await t.metrics(), 'ws_heartbeat_timeouts_total', { path: '/r' }) - before).toBe(1);
    // The idle, healthy client has answered several pings and is still served.
    await waitFor(() => pings >= 4, 5000, 'four pings to the healthy client');
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
    expect((await healthy.request('echo', 'alive')).data).toBe('alive');
    await healthy.close();
  });
});
