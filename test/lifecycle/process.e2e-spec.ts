import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RESILIENCE_APP, SampleProcess } from '../support/sample-process.js';
import { connect, upgrade } from '../support/ws-client.js';

describe('in a real process', () => {
  describe('unhandled rejections', () => {
    let app: SampleProcess;
    beforeAll(async () => {
      app = await SampleProcess.start({}, RESILIENCE_APP);
    });
    afterAll(() => app.stop());

    it("logs a handler's floating promise rejection with the message's trace id, and does not crash", async () => {
      const socket = await connect(`${app.wsUrl}/r`);
      const reply = await socket.request('float', null);
      const line = await app.waitForLog({ msg: 'ws.unhandled_rejection', trace_id: reply.meta?.traceId });
      expect(line).toMatchObject({ event: 'float', connection_trace_id: socket.upgradeHeaders['x-trace-id'] });
      expect((line.err as { message: string }).message).toBe('floating failure');
      expect((await socket.request('echo', 2)).data).toBe(2);
      await socket.close();
    });
  });

  describe('graceful shutdown on SIGTERM', () => {
    it('answers in-flight messages, sends every client 1001, refuses new upgrades with 503, exits 0', async () => {
      const app = await SampleProcess.start({ SHUTDOWN_TIMEOUT_MS: '5000' }, RESILIENCE_APP);
      const clients = await Promise.all([1, 2, 3].map(() => connect(`${app.wsUrl}/r`)));
      for (const [i, c] of clients.entries()) c.send('slow', { ms: 600 + i * 100 }, { id: `m${i}` });
      // The handlers are running when the signal arrives.
      await app.waitForLog({ msg: 'ws.connected' });
      const exit = app.stop('SIGTERM');
      // Draining has begun (logged before in-flight handlers are awaited): new upgrades are refused.
      await app.waitForLog({ msg: 'ws.shutdown' });
      const during = await upgrade(`${app.wsUrl}/r`);
      for (const [i, c] of clients.entries()) {
        const reply = await c.next((f) => f.event === 'slow', 5000);
        expect(reply.meta?.id).toBe(`m${i}`);
        expect(await c.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      }
      expect(await exit).toBe(0);
      expect(during.status).toBe(503);
      expect(app.find({ msg: 'app.closed' })).toHaveLength(1);
    });
  });
});
