import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { upgrade } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

/** A bad-handshake flood from one address costs the application a bounded number of authenticate calls. */
describe('failed handshakes per address', () => {
  let t: TestApp;
  let authCalls = 0;
  beforeAll(async () => {
    t = await startApp({
      gateways: [ResilienceGateway],
      tracing: {
        trustProxy: true,
        handshakeFailures: { perAddressPerMinute: 10 },
        authenticate: ({ token }) => {
          authCalls++;
          return token === 'good-token' ? { id: 'alice' } : null;
        },
      },
    });
  });
  afterAll(() => t.close());

  const from = (address: string, token: string) => ({ headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });

  it('answers 429 with Retry-After once an address used up its budget, before authenticate runs, and names the address in the refusal line', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    // Bounded: 200 bad upgrades from one address, one after the other.
    for (let i = 0; i < 200; i++) {
      const res = await upgrade(`${t.wsUrl}/r`, from('203.0.113.7', `stolen-${i}`));
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers['retry-after'] as string;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // The flood cost the application ten authenticate calls, not two hundred.
    expect(authCalls).toBe(10);
    const text = await t.metrics();
    expect(metricValue(text, 'ws_handshake_rejections_total', { path: '/r', reason: 'invalid_credentials' })).toBe(10);
    expect(metricValue(text, 'ws_handshake_rejections_total', { path: '/r', reason: 'handshake_limit' })).toBe(190);
    // 190 refusals past the limit, sampled: two lines, not 190.
    const limited = logs.find({ msg: 'ws.handshake_rejected', reason: 'handshake_limit' });
    expect(limited.length).toBe(2);
    expect(limited[0]).toMatchObject({ remote_address: '203.0.113.7', sampled: '1/100', status: 429 });
    expect(logs.find({ msg: 'ws.handshake_rejected', reason: 'invalid_credentials' })[0]).toMatchObject({ remote_address: '203.0.113.7' });
  });

  it('keeps serving other addresses, and refuses even a good token from the blocked one until it may retry', async () => {
    const other = await upgrade(`${t.wsUrl}/r`, from('198.51.100.2', 'good-token'));
    expect(other.status).toBe(101);
    other.socket?.close();
    const blocked = await upgrade(`${t.wsUrl}/r`, from('203.0.113.7', 'good-token'));
    expect(blocked.status).toBe(429);
    await logs.waitFor({ msg: 'ws.connected', remote_address: '198.51.100.2' });
  });
});
