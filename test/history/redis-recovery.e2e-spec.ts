import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { WsBroadcaster, type TracingWsModuleOptions } from '@tracing-ws/nestjs';
import { Redis } from 'ioredis';
import { RoomsController } from '../../apps/sample/src/chat/rooms.controller.js';
import { startApp, type TestApp } from '../support/app.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import type { Health } from '../support/sample-api.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { chatClient, HistoryGateway, upTo } from './history.fixture.js';

const keyPrefix = `history-${process.pid}:`;
let redis: RedisServer;
let a: TestApp;
let b: TestApp;
let proxy: TcpProxy;
const closers: Array<() => unknown> = [];

// Publishing as fast as a loop can (the race tests) must not hit the in-flight bound, which would turn broadcasts into unnumbered local ones.
// The history is large enough that the racing publishes never push the client's position out of it on a loaded machine.
function options(instanceId: string): TracingWsModuleOptions {
  return { broadcast: { instanceId, redis: { url: redis.url, keyPrefix, staleAfterMs: 1500, maxInFlightPublishes: 100000 }, history: { size: 5000 } } };
}
const portOf = (app: TestApp): number => Number(new URL(app.httpUrl).port);
const health = async (app: TestApp): Promise<Health> => (await fetch(`${app.httpUrl}/health`)).json() as Promise<Health>;
/** Waits until Redis has numbered `count` broadcasts of `room` (emit() returns before its script runs). */
async function numbered(room: string, count: number): Promise<void> {
  const admin = new Redis(redis.url);
  try {
    await waitFor(async () => Number(await admin.hget(`${keyPrefix}history:{${room}}:pos`, 's')) >= count, 10000, `${count} broadcasts of ${room} in Redis`);
  } finally {
    await admin.quit();
  }
}
const bothUp = () => waitFor(async () => (await health(a)).broadcast?.up && (await health(b)).broadcast?.up, 15000, 'both instances on Redis');

describeWithRedis('room history in Redis Streams (two instances)', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
    const start = (id: string) => startApp({ gateways: [HistoryGateway], controllers: [RoomsController], tracing: options(id) });
    a = await start('a');
    b = await start('b');
    await bothUp();
    proxy = await TcpProxy.start(portOf(b));
  }, 30000);
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    redis.resume();
    proxy.blocked = false;
    await bothUp();
  }, 20000);
  afterAll(async () => {
    await proxy?.close();
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  async function joined(room: string) {
    proxy.target = portOf(b);
    const chat = chatClient(`ws://127.0.0.1:${proxy.port}/chat`);
    closers.push(() => chat.client.close());
    await chat.client.connect();
    await chat.client.join(room);
    return chat;
  }

  it('numbers every broadcast from Redis, the same on both instances, in stream order, with the stream and position keys under one hash tag', async () => {
    const onA = await connect(`${a.wsUrl}/chat`);
    const onB = await connect(`${b.wsUrl}/chat`);
    closers.push(() => onA.close(), () => onB.close());
    await onA.request('join', { room: 'order' }, 'joined');
    await onB.request('join', { room: 'order' }, 'joined');
    const A = a.app.get(WsBroadcaster);
    const B = b.app.get(WsBroadcaster);
    for (let i = 0; i < 20; i++) (i % 2 ? A : B).toRoom('order').emit('said', { i });
    const said = (frames: typeof onA.frames) => frames.filter((f) => f.event === 'said');
    await waitFor(() => said(onA.frames).length === 20 && said(onB.frames).length === 20, 5000, 'both members');
    const view = (frames: typeof onA.frames) => said(frames).map((f) => [f.data.i, (f.meta as { offset: number }).offset]);
    expect(view(onA.frames)).toEqual(view(onB.frames));
    expect(view(onA.frames).map(([, offset]) => offset)).toEqual(upTo(20).map((i) => i + 1));
    const admin = new Redis(redis.url);
    const keys = (await admin.keys(`${keyPrefix}history:*`)).sort();
    await admin.quit();
    expect(keys).toEqual([`${keyPrefix}history:{order}`, `${keyPrefix}history:{order}:pos`]);
  });

  it('recovers 50 messages for a client that reconnects to the other instance, in order, none twice', async () => {
    const chat = await joined('move');
    const A = a.app.get(WsBroadcaster);
    for (let i = 0; i < 5; i++) A.toRoom('move').emit('said', { i });
    await waitFor(() => chat.seen.length === 5, 5000, 'live messages');
    proxy.blocked = true;
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    proxy.cut();
    await reconnecting;
    for (let i = 5; i < 55; i++) A.toRoom('move').emit('said', { i });
    await numbered('move', 55);
    proxy.target = portOf(a);
    proxy.blocked = false;
    await waitFor(() => chat.recoveries.length === 1, 10000, 'the recovery');
    expect(chat.seen.map((s) => s.i)).toEqual(upTo(55));
    expect(chat.seen.filter((s) => s.recovered).map((s) => s.i)).toEqual(upTo(55).slice(5));
    expect(chat.failures).toEqual([]);
  });

  it('delivers what is published during a replay once, after the replayed messages', async () => {
    const chat = await joined('race');
    const A = a.app.get(WsBroadcaster);
    let i = 0;
    A.toRoom('race').emit('said', { i: i++ });
    await waitFor(() => chat.seen.length === 1, 5000, 'a live message');
    proxy.blocked = true;
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    proxy.cut();
    await reconnecting;
    for (; i < 200; i++) A.toRoom('race').emit('said', { i });
    // Everything above is in the stream before the client comes back: it must all be replayed.
    await numbered('race', 200);
    // Publishing goes on, every millisecond, until the replay is over: some land while it is read.
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        A.toRoom('race').emit('said', { i: i++ });
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const recovered = new Promise<void>((resolve) => chat.client.on('recovered', () => resolve()));
    proxy.blocked = false;
    await recovered;
    const atRecovery = chat.seen.length;
    await waitFor(() => chat.seen.length > atRecovery + 20, 5000, 'live messages after the replay');
    publishing = false;
    await publisher;
    await waitFor(() => chat.seen.length === i, 5000, `all ${i} messages`);
    expect(chat.seen.map((s) => s.i)).toEqual(upTo(i));
    const flags = chat.seen.map((s) => s.recovered);
    const firstRecovered = flags.indexOf(true);
    const lastRecovered = flags.lastIndexOf(true);
    // One block of replayed messages (everything missed), then only live ones.
    expect(firstRecovered).toBe(1);
    expect(flags.slice(firstRecovered, lastRecovered + 1).every(Boolean)).toBe(true);
    expect(lastRecovered).toBeGreaterThanOrEqual(199);
    expect(flags.slice(lastRecovered + 1).some(Boolean)).toBe(false);
  });

  it('holds live broadcasts that race a replay and sends them after it: on the wire, offsets in order, none twice, the replay first', async () => {
    const A = a.app.get(WsBroadcaster);
    const first = await connect(`${b.wsUrl}/chat`);
    await first.request('join', { room: 'wire' }, 'joined');
    const position = (await first.next((f) => f.event === 'tracing-ws:position')).data as { epoch: string; offset: number };
    await first.close();
    for (let i = 0; i < 400; i++) A.toRoom('wire').emit('said', { i });
    await numbered('wire', position.offset + 400);
    // A publish every tick from before the re-join until well after it: some run while the replay is read.
    let publishing = true;
    let n = 400;
    const publisher = (async () => {
      while (publishing) {
        A.toRoom('wire').emit('said', { i: n++ });
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const again = await connect(`${b.wsUrl}/chat`);
    closers.push(() => again.close());
    again.send('join', { room: 'wire' }, { recover: { room: 'wire', ...position } });
    await again.next((f) => f.event === 'tracing-ws:recovered', 5000);
    await waitFor(() => again.frames.filter((f) => f.event === 'said' && !(f.meta as { recovered?: boolean }).recovered).length > 50, 5000, 'live frames after the replay');
    publishing = false;
    await publisher;
    await waitFor(() => again.frames.filter((f) => f.event === 'said').length === n, 5000, `all ${n} frames`);
    const said = again.frames.filter((f) => f.event === 'said').map((f) => f.meta as { offset: number; recovered?: boolean });
    expect(said.map((m) => m.offset)).toEqual(upTo(n).map((i) => position.offset + i + 1));
    const flags = said.map((m) => m.recovered === true);
    expect(flags.lastIndexOf(true)).toBe(flags.indexOf(false) - 1);
    expect(flags.indexOf(false)).toBeGreaterThanOrEqual(400);
  });

  it('a client connected through a 5 s Redis stall ends with all 50 messages published from the other instance, in order, none twice', async () => {
    const chat = await joined('stall');
    const A = a.app.get(WsBroadcaster);
    A.toRoom('stall').emit('said', { i: -1 });
    await waitFor(() => chat.seen.length === 1, 5000, 'a live message');
    redis.pause();
    const stalledAt = Date.now();
    for (let i = 0; i < 50; i++) A.toRoom('stall').emit('said', { i });
    await waitFor(() => Date.now() - stalledAt >= 5000, 6000, 'the 5 s stall');
    redis.resume();
    await bothUp();
    await waitFor(() => chat.seen.length === 51, 15000, 'all 50 after the stall');
    expect(chat.seen.map((s) => s.i)).toEqual([-1, ...upTo(50)]);
    // Their live frames came seconds late and were dropped as stale: the client saw the room move on and asked.
    expect(chat.seen.slice(1).every((s) => s.recovered)).toBe(true);
    expect(chat.failures).toEqual([]);
  }, 40000);

  it('while Redis is down: local broadcasts go on unnumbered and the application hears once that they cannot be recovered; a re-join fails with unavailable', async () => {
    const chat = await joined('down');
    const B = b.app.get(WsBroadcaster);
    B.toRoom('down').emit('said', { i: 0 });
    await waitFor(() => chat.seen.length === 1, 5000, 'a live message');
    redis.pause();
    await waitFor(async () => (await health(b)).status === 'degraded', 10000, 'the outage noticed');
    B.toRoom('down').emit('said', { i: 1 });
    B.toRoom('down').emit('said', { i: 2 });
    await waitFor(() => chat.seen.length === 3, 5000, 'local delivery during the outage');
    expect(chat.seen.map((s) => [s.i, s.offset])).toEqual([[0, 1], [1, undefined], [2, undefined]]);
    expect(chat.failures).toEqual([{ room: 'down', reason: 'unavailable' }]);
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    proxy.cut();
    await reconnecting;
    await waitFor(() => chat.failures.length === 2, 10000, 'the re-join answer');
    expect(chat.failures[1]).toEqual({ room: 'down', reason: 'unavailable' });
  }, 30000);

  it('fails with epoch when the stream was recreated (its keys deleted) while the client was away', async () => {
    const chat = await joined('gone');
    const A = a.app.get(WsBroadcaster);
    for (let i = 0; i < 3; i++) A.toRoom('gone').emit('said', { i });
    await waitFor(() => chat.seen.length === 3, 5000, 'live messages');
    proxy.blocked = true;
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    proxy.cut();
    await reconnecting;
    const admin = new Redis(redis.url);
    await admin.del(`${keyPrefix}history:{gone}`, `${keyPrefix}history:{gone}:pos`);
    await admin.quit();
    A.toRoom('gone').emit('said', { i: 3 });
    proxy.blocked = false;
    await waitFor(() => chat.failures.length === 1, 10000, 'the recovery-failed event');
    expect(chat.failures).toEqual([{ room: 'gone', reason: 'epoch' }]);
    expect(chat.seen.filter((s) => s.recovered)).toEqual([]);
  });
});
