import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { metricValue } from '../support/metrics.js';
import { accepted, CONFORMANCE_PATH, errorData, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class PolicyGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

// A bucket of 5 refilling at 1/s: a burst of 8 messages gets 5 through and 3 refused.
const rateLimit = { messagesPerSecond: 1, burst: 5, closeAfterRefused: 15 };

describe.each(TRANSPORTS)('rate limiting over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [PolicyGateway], options: { rateLimit } });
  });
  afterAll(() => app.close());

  it('answers messages over the limit with a retryable RATE_LIMITED error frame, and counts them', async () => {
    const before = metricValue(await app.metrics(), 'ws_rate_limited_total', app.gatewayLabels);
    const client = accepted(await app.connect());
    try {
      for (let i = 0; i < 8; i++) client.send('echo', i);
      const served = [];
      for (let i = 0; i < 5; i++) served.push((await client.next('echo')).data);
      expect(served).toEqual([0, 1, 2, 3, 4]);
      for (let i = 0; i < 3; i++) {
        expect(errorData(await client.next('error'))).toEqual({ code: 'RATE_LIMITED', message: expect.any(String), traceId: client.traceId, retryable: true });
      }
      expect(metricValue(await app.metrics(), 'ws_rate_limited_total', app.gatewayLabels) - before).toBe(3);
      await app.logs.waitFor({ msg: 'ws.rate_limited', connection_trace_id: client.traceId });
    } finally {
      await client.close();
    }
  });

  it('limits each connection on its own: a second client is served in full', async () => {
    const greedy = accepted(await app.connect());
    const other = accepted(await app.connect());
    try {
      for (let i = 0; i < 8; i++) greedy.send('echo', i);
      expect(errorData(await greedy.next('error')).code).toBe('RATE_LIMITED');
      for (let i = 0; i < 5; i++) expect((await other.request('echo', `o${i}`)).data).toBe(`o${i}`);
    } finally {
      await greedy.close();
      await other.close();
    }
  });
});
