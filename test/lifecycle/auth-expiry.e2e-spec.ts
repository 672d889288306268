import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';
import { authenticate, ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('authentication expiry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate } });
  });
  afterAll(() => t.close());

  it('closes the socket with 4401 when the credential the hook returned expires', async () => {
    // `shorty` expires 300 ms after authenticating; `user-long` never does.
    const shorty = await connect(`${t.wsUrl}/r`, { headers: { authorization: 'Bearer shorty' } });
    const other = await connect(`${t.wsUrl}/r`, { headers: { authorization: 'Bearer user-long' } });
    expect((await shorty.request('echo', 1)).data).toBe(1);
    expect(await shorty.closed).toEqual({ code: 4401, reason: 'Authentication expired' });
    await logs.waitFor({ msg: 'ws.auth_expired', user_id: 'shorty' });
    expect((await other.request('echo', 2)).data).toBe(2);
    await other.close();
  });
});
