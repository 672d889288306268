import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { IO_META_KEY } from '@tracing-ws/nestjs/socket.io';
import { IoClients, nextEventArgs } from '../support/io-client.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import type { Health } from '../support/sample-api.js';

// One process serves ws, the other socket.io (a process serves one transport); the
// library's broadcaster is transport-neutral, so through Redis a room spans both.

describeWithRedis('the sample on ws and on socket.io, sharing one Redis', () => {
  let redis: RedisServer;
  let onWs: SampleProcess;
  let onIo: SampleProcess;
  const io = new IoClients();

  beforeAll(async () => {
    redis = await RedisServer.start();
    [onWs, onIo] = await Promise.all([SampleProcess.start({ REDIS_URL: redis.url }), SampleProcess.start({ REDIS_URL: redis.url, TRANSPORT: 'socket.io' })]);
    for (const sample of [onWs, onIo]) {
      await waitFor(async () => ((await (await fetch(`${sample.httpUrl}/health`)).json()) as Health).broadcast?.up === true, 15000, `${sample.httpUrl} to reach Redis`);
    }
  });
  afterEach(() => io.closeAll());
  afterAll(async () => {
    await onWs?.stop();
    await onIo?.stop();
    await redis?.stop();
  });

  it("delivers a ws member's message to a socket.io member of the same room, and back, under the sender's trace id", async () => {
    const alice = await connect(`${onWs.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const { socket: bob } = await io.connect(`${onIo.httpUrl}/chat`, { auth: { token: 'bob-token' } });
    try {
      await alice.request('join', { room: 'mixed' }, 'joined');
      await bob.emitWithAck('join', { room: 'mixed' });

      const atBob = nextEventArgs(bob, 'message');
      const sent = await alice.request('message', { room: 'mixed', text: 'from ws' }, 'sent');
      const [data, trailing] = await atBob;
      expect(data).toEqual({ room: 'mixed', text: 'from ws', user: 'alice', traceId: sent.meta?.traceId });
      expect((trailing as { [IO_META_KEY]: { traceId: string } })[IO_META_KEY].traceId).toBe(sent.meta?.traceId);

      const atAlice = alice.next((f) => f.event === 'message' && f.data.user === 'bob');
      const back = (await bob.emitWithAck('message', { room: 'mixed', text: 'from socket.io' })) as { [IO_META_KEY]: { traceId: string } };
      expect((await atAlice).data).toEqual({ room: 'mixed', text: 'from socket.io', user: 'bob', traceId: back[IO_META_KEY].traceId });
    } finally {
      await alice.close();
    }
  });
});
