import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('malformed and unknown frames', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { invalidFrames: { max: 5, windowMs: 60000 } } });
  });
  afterAll(() => t.close());

  it('answers each bad frame with an error frame, counts it, and keeps the connection open', async () => {
    const before = await t.metrics();
    const socket = await connect(`${t.wsUrl}/r`);
    const cases: Array<[string | Buffer, boolean, string, string]> = [
      ['{not json', false, 'BAD_REQUEST', 'Frame is not valid JSON'],
      ['{"data":1}', false, 'BAD_REQUEST', 'Frame must be a JSON object with a string "event"'],
      ['[1,2]', false, 'BAD_REQUEST', 'Frame must be a JSON object with a string "event"'],
      [Buffer.from([1, 2, 3]), true, 'BAD_REQUEST', 'Binary frames are not supported; send JSON text'],
      ['{"event":"no-such-event"}', false, 'UNKNOWN_EVENT', 'Unknown event'],
    ];
    for (const [frame, binary, code, message] of cases) {
      socket.sendRaw(frame, binary);
      const reply = await socket.next((f) => f.event === 'error');
      expect(reply.data).toEqual({ code, message, traceId: socket.upgradeHeaders['x-trace-id'], retryable: false });
    }
    expect((await socket.request('echo', 'fine')).data).toBe('fine');
    const after = await t.metrics();
    const delta = (labels: Record<string, string>) => metricValue(after, 'ws_messages_received_total', labels) - metricValue(before, 'ws_messages_received_total', labels);
    expect(delta({ path: '/r', event: 'invalid' })).toBe(4);
    expect(delta({ path: '/r', event: 'unknown' })).toBe(1);
    await socket.close();
  });
});
