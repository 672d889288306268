import { createConnection, type Socket } from 'node:net';
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
  
    it('exits within shutdown.timeoutMs although half-open upgrades and a half-sent HTTP request are still open', async () => {
      const app = await SampleProcess.start({ SHUTDOWN_TIMEOUT_MS: '1500' }, RESILIENCE_APP);
      const { port } = new URL(app.httpUrl);
      // Five upgrade requests and one GET whose headers never finish.
      const halfOpen = await Promise.all(
        [...Array(5).fill(`GET /r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`), 'GET /health HTTP/1.1\r\nHost: x\r\n'].map(
          (head) =>
            new Promise<Socket>((resolve) => {
              const socket = createConnection({ host: '127.0.0.1', port: Number(port) }, () => {
                socket.write(head);
                resolve(socket);
              });
              socket.on('error', () => undefined);
            }),
        ),
      );
      const started = Date.now();
      // stop() kills the process with SIGKILL (exit code null) if it has not exited within 8 s.
      const code = await app.stop('SIGTERM', 8000);
      const took = Date.now() - started;
      for (const socket of halfOpen) socket.destroy();
      expect(code).toBe(0);
      // The deadline (1.5 s) plus the process's own exit: far from the 8 s SIGKILL, or the minutes a client may wait.
      expect(took).toBeLessThan(5000);
    });
});
});
