import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { RESILIENCE_APP, SampleProcess } from '../support/sample-process.js';
import { describeWithRedis, freePort, RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { chatClient, upTo } from './history.fixture.js';

let redis: RedisServer;
let a: SampleProcess;
let b: SampleProcess;

const env = (id: string, port: number) => ({ REDIS_URL: redis.url, KEY_PREFIX: `crash-${process.pid}:`, HISTORY: '1', INSTANCE_ID: id, PORT: String(port), LOG_LEVEL: 'info' });
const up = (p: SampleProcess) => waitFor(async () => ((await (await fetch(`${p.httpUrl}/metrics`)).text()).match(/^ws_broadcast_backend_up 1$/m) ? true : false), 15000, 'the instance on Redis');

describeWithRedis('room history across an instance crash (two processes, one Redis)', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
    a = await SampleProcess.start(env('a', await freePort()), RESILIENCE_APP);
    b = await SampleProcess.start(env('b', await freePort()), RESILIENCE_APP);
    await up(a);
    await up(b);
  }, 60000);
  afterAll(async () => {
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
    await redis?.stop();
  });

  it('gives a client whose instance was SIGKILLed and restarted on the same port all 50 messages published through the other instance, in order, none twice', async () => {
    const port = b.port;
    const chat = chatClient(`ws://127.0.0.1:${port}/r`);
    try {
      await chat.client.connect();
      await chat.client.join('crash');
      const publisher = await connect(`${a.wsUrl}/r`);
      await publisher.request('say', { room: 'crash', i: 0 }, 'sent');
      await waitFor(() => chat.seen.length === 1, 5000, 'a live message');
      const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
      await b.stop('SIGKILL');
      await reconnecting;
      for (let i = 1; i <= 50; i++) await publisher.request('say', { room: 'crash', i }, 'sent');
      b = await SampleProcess.start(env('b2', port), RESILIENCE_APP);
      await up(b);
      await waitFor(() => chat.seen.length === 51, 20000, 'all 50 after the restart');
      expect(chat.seen.map((s) => s.i)).toEqual(upTo(51));
      expect(chat.seen.slice(1).every((s) => s.recovered)).toBe(true);
      expect(chat.failures).toEqual([]);
      await publisher.close();
    } finally {
      chat.client.close();
    }
  }, 60000);
});
