import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('invalid-frame limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { invalidFrames: { max: 5, windowMs: 60000 } } });
  });
  afterAll(() => t.close());

  it('closes a client that keeps sending garbage with 4400, and serves the others', async () => {
    const garbage = await connect(`${t.wsUrl}/r`);
    const good = await connect(`${t.wsUrl}/r`);
    for (let i = 0; i < 10; i++) garbage.sendRaw(`garbage ${i}`);
    const closed = await garbage.closed;
    expect(closed).toEqual({ code: 4400, reason: 'Too many invalid frames' });
    await logs.waitFor({ msg: 'ws.closed_for_abuse', reason: 'invalid_frames' });
    expect((await good.request('echo', 1)).data).toBe(1);
    await good.close();
  });
});
