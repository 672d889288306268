import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, WsContextService, type TracingWsModuleOptions } from '@tracing-ws/nestjs';
import { Redis } from 'ioredis';
import { RoomsController } from '../../apps/sample/src/chat/rooms.controller.js';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect, type Frame, type TestSocket } from '../support/ws-client.js';
import { describeWithRedis, freePort, RedisServer } from '../support/redis-server.js';
import type { Health, Members } from '../support/sample-api.js';

@TracedGateway()
@WebSocketGateway({ path: '/chat' })
class ScaleGateway {
  constructor(
    private readonly broadcaster: WsBroadcaster,
    private readonly context: WsContextService,
  ) {}

  @SubscribeMessage('whoami')
  whoami() {
    return { event: 'whoami', data: { connectionId: this.context.connectionId } };
  }

  @SubscribeMessage('poke')
  poke(_socket: unknown, data: { connectionId: string; text: string }) {
    return { event: 'sent', data: { delivered: this.broadcaster.toConnection(data.connectionId).emit('poked', { text: data.text }) } };
  }

  @SubscribeMessage('join')
  join(socket: unknown, data: { room: string }) {
    this.broadcaster.join(socket, data.room);
    return { event: 'joined', data: { room: data.room } };
  }

  @SubscribeMessage('say')
  say(_socket: unknown, data: { room: string; text: string }) {
    return { event: 'sent', data: { delivered: this.broadcaster.toRoom(data.room).emit('said', { room: data.room, text: data.text }) } };
  }

  @SubscribeMessage('dm')
  dm(_socket: unknown, data: { user: string; text: string }) {
    return { event: 'sent', data: { delivered: this.broadcaster.toUser(data.user).emit('dm', { text: data.text }) } };
  }

  @SubscribeMessage('shout')
  shout(_socket: unknown, data: { text: string }) {
    return { event: 'sent', data: { delivered: this.broadcaster.toAll().emit('shout', { text: data.text }) } };
  }
}


const telemetry = new TestTelemetry();
const keyPrefix = `test-${process.pid}:`;
let redis: RedisServer;
let a: TestApp;
let b: TestApp;
const sockets: TestSocket[] = [];

function options(instanceId: string, url: string): TracingWsModuleOptions {
  return {
    authenticate: ({ token }) => ({ id: token }),
    broadcast: { instanceId, redis: { url, keyPrefix, presenceTtlMs: 3000 } },
  };
}

async function start(instanceId: string, url: string): Promise<TestApp> {
  return startApp({ gateways: [ScaleGateway], controllers: [RoomsController], tracing: options(instanceId, url) });
}

async function client(app: TestApp, user: string, rooms: string[] = []): Promise<TestSocket> {
  const socket = await connect(`${app.wsUrl}/chat?access_token=${user}`);
  sockets.push(socket);
  for (const room of rooms) await socket.request('join', { room }, 'joined');
  return socket;
}

async function health(app: TestApp): Promise<Health> {
  return (await fetch(`${app.httpUrl}/health`)).json() as Promise<Health>;
}

async function waitHealth(app: TestApp, up: boolean, timeoutMs = 10000): Promise<Health> {
  return waitFor(async () => {
    const h = await health(app);
    return h.broadcast?.up === up && h;
  }, timeoutMs, `backend up=${up} on ${app.httpUrl}`);
}

async function members(app: TestApp, room: string): Promise<Members> {
  return (await fetch(`${app.httpUrl}/rooms/${room}/members`)).json() as Promise<Members>;
}

const count = (socket: TestSocket, event: string, text: string): number => socket.frames.filter((f: Frame) => f.event === event && f.data?.text === text).length;

describeWithRedis('WsBroadcaster over Redis: two instances in one process', () => {
  beforeAll(async () => {
    telemetry.start();
    redis = await RedisServer.start();
    a = await start('inst-a', redis.url);
    b = await start('inst-b', redis.url);
    await waitHealth(a, true);
    await waitHealth(b, true);
  });

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
    await telemetry.shutdown();
  });

  it('delivers a room message to its members on both instances exactly once, and to nobody else', async () => {
    const a1 = await client(a, 'u1', ['r1']);
    const a2 = await client(a, 'u2');
    const b1 = await client(b, 'u3', ['r1']);
    const b2 = await client(b, 'u4', ['r1']);

    const sent = await a1.request('say', { room: 'r1', text: 'hello' }, 'sent');
    expect(sent.data).toEqual({ delivered: 1 }); // local deliveries; B delivers its own
    for (const s of [a1, b1, b2]) expect((await s.next((f) => f.event === 'said' && f.data.text === 'hello')).data).toEqual({ room: 'r1', text: 'hello' });

    // Barrier: a publication from B reaches A after A's own echo of "hello" (one channel, in order).
    await b1.request('say', { room: 'r1', text: 'probe' }, 'sent');
    for (const s of [a1, b1, b2]) await s.next((f) => f.event === 'said' && f.data.text === 'probe');
    for (const s of [a1, b1, b2]) expect(count(s, 'said', 'hello')).toBe(0); // already taken once, no second copy
    expect(a2.frames.filter((f) => f.event === 'said')).toEqual([]);
  });

  it('reaches every socket of a user, and every socket, across instances', async () => {
    const onA = await client(a, 'dana');
    const onB = await client(b, 'dana');
    const other = await client(b, 'eve');
    const sender = await client(a, 'frank');

    expect((await sender.request('dm', { user: 'dana', text: 'psst' }, 'sent')).data).toEqual({ delivered: 1 });
    for (const s of [onA, onB]) await s.next((f) => f.event === 'dm' && f.data.text === 'psst');

    expect((await sender.request('shout', { text: 'all hands' }, 'sent')).data).toEqual({ delivered: 2 });
    for (const s of [onA, onB, other, sender]) await s.next((f) => f.event === 'shout' && f.data.text === 'all hands');
    await other.request('shout', { text: 'barrier' }, 'sent');
    for (const s of [onA, onB, other, sender]) await s.next((f) => f.event === 'shout' && f.data.text === 'barrier');
    expect(other.frames.filter((f) => f.event === 'dm')).toEqual([]);
    for (const s of [onA, onB, other, sender]) expect(count(s, 'shout', 'all hands')).toBe(0);
  });

  it('pushes to one connection held by the other instance, once, in the publisher\'s trace; a local one is not published', async () => {
    const target = await client(b, 'gina');
    const local = await client(a, 'hal');
    const sender = await client(a, 'ivan');
    const targetId = ((await target.request('whoami', null, 'whoami')).data as { connectionId: string }).connectionId;
    const localId = ((await local.request('whoami', null, 'whoami')).data as { connectionId: string }).connectionId;

    expect((await sender.request('poke', { connectionId: targetId, text: 'remote' }, 'sent')).data).toEqual({ delivered: 0 });
    const poked = await target.next((f) => f.event === 'poked' && f.data.text === 'remote');
    const traceId = poked.meta?.traceId;
    const send = await telemetry.waitForSpan((s) => s.name === 'send poked' && s.spanContext().traceId === traceId);
    const deliver = await telemetry.waitForSpan((s) => s.name === 'process poked' && s.spanContext().traceId === traceId);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(deliver.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(deliver.attributes).toMatchObject({ 'messaging.batch.message_count': 1, 'ws.broadcast.instance_id': 'inst-b', 'ws.broadcast.origin_instance_id': 'inst-a' });

    const published = metricValue(await a.metrics(), 'ws_broadcast_published_total');
    expect((await sender.request('poke', { connectionId: localId, text: 'here' }, 'sent')).data).toEqual({ delivered: 1 });
    await local.next((f) => f.event === 'poked' && f.data.text === 'here');
    const here = telemetry.spans().find((s) => s.name === 'send poked' && s.attributes['messaging.batch.message_count'] === 1);
    expect(here?.attributes['messaging.message.id']).toBeUndefined();
    expect(metricValue(await a.metrics(), 'ws_broadcast_published_total')).toBe(published);
    // Barrier: a later publication from A reaches B, and the remote poke arrived only once.
    await sender.request('shout', { text: 'after-pokes' }, 'sent');
    await target.next((f) => f.event === 'shout' && f.data.text === 'after-pokes');
    expect(target.frames.filter((f) => f.event === 'poked')).toEqual([]);
  });

  it("delivers on the other instance in a span and log lines of the publisher's trace", async () => {
    const a1 = await client(a, 'gus', ['r2']);
    const b1 = await client(b, 'hal', ['r2']);
    const sent = await a1.request('say', { room: 'r2', text: 'traced' }, 'sent');
    const traceId = sent.meta?.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const received = await b1.next((f) => f.event === 'said');
    expect(received.meta?.traceId).toBe(traceId);

    const publish = await telemetry.waitForSpan((s) => s.name === 'send said' && s.spanContext().traceId === traceId);
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(publish.attributes['ws.broadcast.instance_id']).toBe('inst-a');
    const deliver = await telemetry.waitForSpan((s) => s.name === 'process said' && s.spanContext().traceId === traceId);
    expect(deliver.kind).toBe(SpanKind.CONSUMER);
    expect(deliver.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(deliver.links.map((l) => l.context.spanId)).toEqual([publish.spanContext().spanId]);
    expect(deliver.attributes).toMatchObject({
      'ws.broadcast.instance_id': 'inst-b',
      'ws.broadcast.origin_instance_id': 'inst-a',
      'messaging.destination.name': 'r2',
      'messaging.batch.message_count': 1,
      'messaging.message.id': publish.attributes['messaging.message.id'],
    });

    const line = await logs.waitFor({ msg: 'ws.broadcast', instance_id: 'inst-b', trace_id: traceId });
    expect(line).toMatchObject({ event: 'said', room: 'r2', recipients: 1, origin_instance_id: 'inst-a' });
    expect(line.lag_ms).toEqual(expect.any(Number));
    await logs.waitFor({ msg: 'ws.broadcast', instance_id: 'inst-a', trace_id: traceId, recipients: 1 });
  });

  it('lists room members across instances, and forgets those who leave', async () => {
    const a1 = await client(a, 'ivy', ['r3']);
    await client(b, 'jay', ['r3']);
    const b2 = await client(b, 'kim', ['r3']);
    const listed = await waitFor(async () => {
      const m = await members(a, 'r3');
      return m.members.length === 3 && m;
    }, 5000, 'three members of r3');
    expect(listed.complete).toBe(true);
    expect(listed.members.map((m) => `${m.userId}@${m.instanceId}`).sort()).toEqual(['ivy@inst-a', 'jay@inst-b', 'kim@inst-b']);

    await b2.close();
    await waitFor(async () => (await members(a, 'r3')).members.length === 2, 5000, 'kim gone from r3');
    const online = await a.app.get(WsBroadcaster).online();
    expect(online.items.filter((c) => c.rooms.includes('r3')).map((c) => c.userId).sort()).toEqual(['ivy', 'jay']);
    expect(a1.frames.filter((f) => f.event === 'error')).toEqual([]);
  });

  it('counts published and received envelopes and the publish-to-delivery lag', async () => {
    const before = await a.metrics();
    const a1 = await client(a, 'lee', ['r4']);
    const b1 = await client(b, 'max', ['r4']);
    await a1.request('say', { room: 'r4', text: 'm1' }, 'sent');
    await b1.next((f) => f.event === 'said');
    await b1.request('say', { room: 'r4', text: 'm2' }, 'sent');
    await a1.next((f) => f.event === 'said' && f.data.text === 'm2');
    // One registry per process: both instances count into the same series.
    const after = await waitFor(async () => {
      const text = await a.metrics();
      return metricValue(text, 'ws_broadcast_published_total') - metricValue(before, 'ws_broadcast_published_total') >= 2 && text;
    }, 5000, 'published_total to grow by 2');
    expect(metricValue(after, 'ws_broadcast_received_total') - metricValue(before, 'ws_broadcast_received_total')).toBe(2);
    expect(metricValue(after, 'ws_broadcast_lag_seconds_count') - metricValue(before, 'ws_broadcast_lag_seconds_count')).toBe(2);
    expect(metricValue(after, 'ws_broadcast_backend_up')).toBe(1);
    expect(after).toContain('ws_broadcast_failed_total{reason="publish"}');
  });

  it('counts and logs an envelope it cannot read, and keeps delivering', async () => {
    const a1 = await client(a, 'sam', ['r7']);
    const b1 = await client(b, 'tom', ['r7']);
    const before = metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'decode' });
    const intruder = new Redis(redis.url);
    try {
      expect(await intruder.publish(`${keyPrefix}broadcast`, 'not an envelope')).toBe(2);
    } finally {
      intruder.disconnect();
    }
    await logs.waitFor({ msg: 'ws.broadcast_envelope_rejected', instance_id: 'inst-b' });
    // One registry for both in-process instances: each counted it once.
    await waitFor(async () => metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'decode' }) === before + 2, 5000, 'decode failures counted');
    await a1.request('say', { room: 'r7', text: 'still fine' }, 'sent');
    await b1.next((f) => f.event === 'said' && f.data.text === 'still fine');
  });

  it('counts and logs presence writes Redis refuses, instead of letting presence go stale in silence', async () => {
    const before = metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'presence' });
    const admin = new Redis(redis.url);
    try {
      // Redis over its memory limit refuses writes (OOM) but still carries pub/sub.
      await admin.config('SET', 'maxmemory', '1');
      const a1 = await client(a, 'oom', ['r8']);
      const line = await logs.waitFor({ msg: 'ws.presence_write_failed', instance_id: 'inst-a' });
      expect(String(line.reason)).toMatch(/OOM/);
      await waitFor(async () => metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'presence' }) >= before + 2, 5000, 'presence failures counted');
      // One line per streak of failures, not one per write.
      expect(logs.find({ msg: 'ws.presence_write_failed', instance_id: 'inst-a' })).toHaveLength(1);
      await a1.request('say', { room: 'r8', text: 'delivered anyway' }, 'sent');
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
  });

  it('keeps local delivery while Redis is down, reports it, and resumes by itself when Redis returns', async () => {
    const a1 = await client(a, 'ned', ['r5']);
    const a2 = await client(a, 'oz', ['r5']);
    const b1 = await client(b, 'pat', ['r5']);
    await waitFor(async () => (await members(a, 'r5')).members.length === 3, 5000, 'three members of r5');
    const failedBefore = metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'publish' });

    await redis.stop();
    expect((await waitHealth(a, false)).status).toBe('degraded');
    await waitHealth(b, false);
    expect(metricValue(await a.metrics(), 'ws_broadcast_backend_up')).toBe(0);
    await logs.waitFor({ msg: 'ws.broadcast_backend_down', instance_id: 'inst-a' });

    // Local delivery goes on; the handler neither throws nor waits.
    expect((await a1.request('say', { room: 'r5', text: 'during outage' }, 'sent')).data).toEqual({ delivered: 2 });
    await a2.next((f) => f.event === 'said' && f.data.text === 'during outage');
    expect(metricValue(await a.metrics(), 'ws_broadcast_failed_total', { reason: 'publish' })).toBe(failedBefore + 1);
    const local = await members(a, 'r5');
    expect(local.complete).toBe(false);
    expect(local.members.map((m) => m.userId).sort()).toEqual(['ned', 'oz']);

    await redis.restart(); // same port, empty: presence must be written again
    await waitHealth(a, true, 15000);
    await waitHealth(b, true, 15000);
    await logs.waitFor({ msg: 'ws.broadcast_backend_up', instance_id: 'inst-a' });
    expect(metricValue(await a.metrics(), 'ws_broadcast_backend_up')).toBe(1);
    await waitFor(async () => (await members(a, 'r5')).members.length === 3, 5000, 'presence rewritten after the restart');

    await a1.request('say', { room: 'r5', text: 'after outage' }, 'sent');
    const first = await b1.next((f) => f.event === 'said');
    expect(first.data.text).toBe('after outage'); // the outage message was not queued and replayed late
    expect(a1.frames.filter((f) => f.event === 'error')).toEqual([]);
  });

  it('starts while Redis is unreachable and joins in when it appears', async () => {
    const port = await freePort();
    const late = await start('inst-late', `redis://127.0.0.1:${port}`);
    let lateRedis: RedisServer | undefined;
    try {
      expect(await waitHealth(late, false)).toMatchObject({ status: 'degraded', broadcast: { backend: 'redis', up: false, instanceId: 'inst-late' } });
      const c1 = await client(late, 'quinn', ['r6']);
      const c2 = await client(late, 'ray', ['r6']);
      expect((await c1.request('say', { room: 'r6', text: 'alone' }, 'sent')).data).toEqual({ delivered: 2 });
      await c2.next((f) => f.event === 'said');

      lateRedis = await RedisServer.start(port);
      await waitHealth(late, true, 15000);
      const listed = await waitFor(async () => {
        const m = await members(late, 'r6');
        return m.members.length === 2 && m;
      }, 5000, 'presence written once Redis appeared');
      expect(listed.members.every((m) => m.instanceId === 'inst-late')).toBe(true);
    } finally {
      await Promise.all(sockets.splice(0).map((s) => s.close()));
      await late.close();
      await lateRedis?.stop();
    }
  });
});
