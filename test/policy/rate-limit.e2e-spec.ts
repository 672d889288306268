import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';
import { authenticate, ResilienceGateway } from '../fixtures/resilience.gateway.js';

// A bucket of 5 refilling at 2/s: a burst of 8 frames gets 5 through and 3 refused.
const rateLimit = { messagesPerSecond: 2, burst: 5, closeAfterRefused: 15 };

describe('rate limiting', () => {
  let t: TestApp;
  let perUser: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate, rateLimit } });
    perUser = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate, rateLimit: { ...rateLimit, perUser: true } } });
  });
  afterAll(async () => {
    await t.close();
    await perUser.close();
  });

  it('refuses frames over the bucket with a retryable RATE_LIMITED error and counts them', async () => {
    const before = metricValue(await t.metrics(), 'ws_rate_limited_total', { path: '/r' });
    const socket = await connect(`${t.wsUrl}/r`);
    for (let i = 0; i < 8; i++) socket.send('echo', i);
    const frames = [];
    for (let i = 0; i < 8; i++) frames.push(await socket.next());
    expect(frames.filter((f) => f.event === 'echo').map((f) => f.data)).toEqual([0, 1, 2, 3, 4]);
    const refused = frames.filter((f) => f.event === 'error');
    expect(refused).toHaveLength(3);
    for (const f of refused) expect(f.data).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(metricValue(await t.metrics(), 'ws_rate_limited_total', { path: '/r' }) - before).toBe(3);
    await socket.close();
  });

  it('closes a client that persists with 4429, and keeps serving a polite one', async () => {
    const flooder = await connect(`${t.wsUrl}/r`);
    const polite = await connect(`${t.wsUrl}/r`);
    for (let i = 0; i < 40; i++) flooder.send('echo', i);
    expect(await flooder.closed).toEqual({ code: 4429, reason: 'Rate limit exceeded' });
    await logs.waitFor({ msg: 'ws.closed_for_abuse', reason: 'rate_limit' });
    expect((await polite.request('echo', 'ok')).data).toBe('ok');
    await polite.close();
  });

  it('shares one bucket between the connections of a user with perUser', async () => {
    const a = await connect(`${perUser.wsUrl}/r`, { headers: { authorization: 'Bearer user-dana' } });
    const b = await connect(`${perUser.wsUrl}/r`, { headers: { authorization: 'Bearer user-dana' } });
    const other = await connect(`${perUser.wsUrl}/r`, { headers: { authorization: 'Bearer user-eve' } });
    for (let i = 0; i < 4; i++) a.send('echo', i);
    for (let i = 0; i < 4; i++) await a.next((f) => f.event === 'echo');
    // dana has one token left across both of her connections.
    b.send('echo', 'b1');
    b.send('echo', 'b2');
    // A refusal is answered at once, a handled frame after its (async) handler: compare as a set.
    const frames = [await b.next(), await b.next()];
    expect(frames.find((f) => f.event === 'echo')?.data).toBe('b1');
    expect(frames.find((f) => f.event === 'error')?.data.code).toBe('RATE_LIMITED');
    // Another user has a bucket of their own.
    expect((await other.request('echo', 'e')).event).toBe('echo');
    await Promise.all([a.close(), b.close(), other.close()]);
  });
});
