import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { connect, upgrade } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('connection limits', () => {
  let global: TestApp;
  let perIp: TestApp;
  beforeAll(async () => {
    global = await startApp({ gateways: [ResilienceGateway], tracing: { maxConnections: 2 } });
    perIp = await startApp({ gateways: [ResilienceGateway], tracing: { maxConnectionsPerIp: 1, trustProxy: true } });
  });
  afterAll(async () => {
    await global.close();
    await perIp.close();
  });

  it('refuses connections over maxConnections with 503 and frees the slot when one closes', async () => {
    const a = await connect(`${global.wsUrl}/r`);
    const b = await connect(`${global.wsUrl}/r`);
    expect((await upgrade(`${global.wsUrl}/r`)).status).toBe(503);
    await logs.waitFor({ msg: 'ws.handshake_rejected', reason: 'connection_limit', status: 503 });
    expect(metricValue(await global.metrics(), 'ws_handshake_rejections_total', { path: '/r', reason: 'connection_limit' })).toBe(1);
    await a.close();
    const c = await waitFor(async () => {
      const res = await upgrade(`${global.wsUrl}/r`);
      return res.status === 101 && res;
    }, 5000, 'a free slot');
    expect((await b.request('echo', 'b')).data).toBe('b');
    c.socket!.close();
    await b.close();
  });

  it('refuses a second connection from the same address with 429 (X-Forwarded-For behind trustProxy)', async () => {
    const first = await connect(`${perIp.wsUrl}/r`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    const again = await upgrade(`${perIp.wsUrl}/r`, { headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } });
    expect(again.status).toBe(429);
    const elsewhere = await connect(`${perIp.wsUrl}/r`, { headers: { 'x-forwarded-for': '198.51.100.2' } });
    expect(metricValue(await perIp.metrics(), 'ws_handshake_rejections_total', { path: '/r', reason: 'ip_limit' })).toBe(1);
    expect((await first.request('echo', 1)).data).toBe(1);
    expect((await elsewhere.request('echo', 2)).data).toBe(2);
    await first.close();
    await elsewhere.close();
  });
});
