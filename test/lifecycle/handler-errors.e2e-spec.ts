import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';
import { authenticate, ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('a throwing connection handler', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate } });
  });
  afterAll(() => t.close());

  it('closes the socket with 1011 when handleConnection throws, without crashing', async () => {
    const crashy = await connect(`${t.wsUrl}/r`, { headers: { authorization: 'Bearer user-crashy' } });
    expect(await crashy.closed).toEqual({ code: 1011, reason: 'Internal error' });
    const line = await logs.waitFor({ msg: 'ws.connection_handler_failed', user_id: 'crashy' });
    expect((line.err as { message: string }).message).toBe('connection hook failed');
    const fine = await connect(`${t.wsUrl}/r`, { headers: { authorization: 'Bearer user-fine' } });
    expect((await fine.request('echo', 1)).data).toBe(1);
    await fine.close();
  });
});
