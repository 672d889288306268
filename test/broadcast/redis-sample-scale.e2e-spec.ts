import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import type { Health, Members } from '../support/sample-api.js';


async function healthy(sample: SampleProcess): Promise<string> {
  const h = await waitFor(async () => {
    const body = (await (await fetch(`${sample.httpUrl}/health`)).json()) as Health;
    return body.broadcast?.up === true && body;
  }, 15000, `${sample.httpUrl} to reach Redis`);
  expect(h.status).toBe('ok');
  return h.broadcast!.instanceId;
}

async function members(sample: SampleProcess, room: string): Promise<Members> {
  return (await fetch(`${sample.httpUrl}/rooms/${room}/members`)).json() as Promise<Members>;
}

describeWithRedis('the sample scaled out: two processes sharing one Redis', () => {
  let redis: RedisServer;
  let a: SampleProcess;
  let b: SampleProcess;
  let idA: string;
  let idB: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    // A short presence TTL so that a killed instance's entries expire within the test.
    const env = { REDIS_URL: redis.url, REDIS_PRESENCE_TTL_MS: '1500' };
    [a, b] = await Promise.all([SampleProcess.start(env), SampleProcess.start(env)]);
    [idA, idB] = await Promise.all([healthy(a), healthy(b)]);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it("delivers an HTTP announce on A to B's sockets, in B's logs under the same trace id", async () => {
    expect(idA).not.toBe(idB);
    const alice = await connect(`${a.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const bob = await connect(`${b.wsUrl}/chat?access_token=bob-token`);
    try {
      await alice.request('join', { room: 'lobby' }, 'joined');
      await bob.request('join', { room: 'lobby' }, 'joined');

      const res = await fetch(`${a.httpUrl}/rooms/lobby/announce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'scaled out' }),
      });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { delivered: number; traceId: string };
      expect(body.delivered).toBe(1); // alice, on A; B delivers to bob
      expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);

      for (const socket of [alice, bob]) {
        const frame = await socket.next((f) => f.event === 'announcement');
        expect(frame.data).toEqual({ room: 'lobby', text: 'scaled out' });
        expect(frame.meta?.traceId).toBe(body.traceId);
      }
      const delivery = await b.waitForLog({ msg: 'ws.broadcast', trace_id: body.traceId });
      expect(delivery).toMatchObject({ event: 'announcement', room: 'lobby', recipients: 1, instance_id: idB, origin_instance_id: idA });
      await a.waitForLog({ msg: 'ws.broadcast', trace_id: body.traceId, instance_id: idA, recipients: 1 });

      // And the other way round, for a chat message: one trace id from bob's send to alice's frame.
      const sent = await bob.request('message', { room: 'lobby', text: 'hi from B' }, 'sent');
      const got = await alice.next((f) => f.event === 'message');
      expect(got.data).toMatchObject({ text: 'hi from B', user: 'bob' });
      expect(got.meta?.traceId).toBe(sent.meta?.traceId);
      await a.waitForLog({ msg: 'ws.broadcast', trace_id: sent.meta?.traceId, origin_instance_id: idB });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it("answers GET /rooms/:room/members across instances, and forgets a killed instance's sockets by TTL", async () => {
    const alice = await connect(`${a.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const bob = await connect(`${b.wsUrl}/chat?access_token=bob-token`);
    try {
      await alice.request('join', { room: 'ops' }, 'joined');
      await bob.request('join', { room: 'ops' }, 'joined');
      const both = await waitFor(async () => {
        const m = await members(b, 'ops');
        return m.members.length === 2 && m;
      }, 5000, 'two members of ops');
      expect(both.complete).toBe(true);
      expect(both.members.map((m) => `${m.userId}@${m.instanceId}`).sort()).toEqual([`alice@${idA}`, `bob@${idB}`].sort());

      // A crash: no goodbye, no cleanup. Its entries must expire by themselves.
      expect(await b.stop('SIGKILL')).toBeNull();
      const after = await waitFor(async () => {
        const m = await members(a, 'ops');
        return m.members.length === 1 && m;
      }, 5000, "the killed instance's members to expire");
      expect(after.members[0]).toMatchObject({ userId: 'alice', instanceId: idA });
    } finally {
      await alice.close();
      bob.ws.terminate();
    }
  });
});
