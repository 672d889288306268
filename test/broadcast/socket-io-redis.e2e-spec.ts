import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { Controller, Param, Post, type INestApplication } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { createAdapter } from '@socket.io/redis-adapter';
import { TracedGateway } from '@tracing-ws/nestjs';
import { createTracedRedisAdapter, IO_SESSION_EVENT, TracingIoAdapter, type TracedRedisAdapterFactory } from '@tracing-ws/nestjs/socket.io';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Server, type Namespace, type ServerOptions, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';

/**
 * socket.io rooms across instances through `@socket.io/redis-adapter` on a real
 * redis-server: two apps with the traced adapter (io-a, io-b) and one with the
 * stock adapter (io-stock), each with real socket.io-client clients. All apps of
 * this file export to one in-memory exporter: spans are told apart by
 * `ws.broadcast.instance_id`.
 */

@TracedGateway()
@WebSocketGateway({ namespace: '/chat' })
class IoRoomsGateway {
  @WebSocketServer() nsp!: Namespace;

  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: ServerSocket, @MessageBody() data: { room: string }) {
    await socket.join(data.room);
    return { room: data.room };
  }

  @SubscribeMessage('say')
  say(@MessageBody() data: { room: string; text: string }) {
    this.nsp.to(data.room).emit('said', { room: data.room, text: data.text });
    return { sent: true };
  }
}

/** A broadcast that no socket message started: an HTTP request. */
@Controller('rooms')
class AnnounceController {
  constructor(private readonly gateway: IoRoomsGateway) {}

  @Post(':room/announce')
  announce(@Param('room') room: string) {
    this.gateway.nsp.to(room).emit('announce', { room });
    return { ok: true };
  }
}

/** The app side of the README's recipe: a TracingIoAdapter whose server gets a Redis adapter. */
class RedisIoAdapter extends TracingIoAdapter {
  constructor(
    app: INestApplication,
    private readonly redisAdapter: TracedRedisAdapterFactory,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, options).adapter(this.redisAdapter);
  }
}

interface Instance {
  readonly app: TestApp;
  readonly pub: Redis;
  readonly sub: Redis;
}

interface Received {
  readonly event: string;
  readonly args: unknown[];
}

/** A connected client: every event it got (besides the session) with its arguments, and the raw engine.io packets. */
interface Client {
  readonly socket: Socket;
  readonly events: Received[];
  readonly packets: string[];
}

const telemetry = new TestTelemetry();
const TRACE_ID = /^[0-9a-f]{32}$/;
let redis: RedisServer;
let a: Instance;
let b: Instance;
let stock: Instance;
const clients: Client[] = [];

/** ioredis clients as the README recommends: no offline queue on the publisher, an error listener on both. */
function redisClients(url: string): { pub: Redis; sub: Redis } {
  const pub = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  const sub = new Redis(url, { retryStrategy: () => 50 });
  for (const c of [pub, sub]) c.on('error', () => {});
  return { pub, sub };
}

async function start(instanceId: string, traced: boolean): Promise<Instance> {
  const { pub, sub } = redisClients(redis.url);
  const factory = traced ? await createTracedRedisAdapter(pub, sub) : (createAdapter(pub, sub) as TracedRedisAdapterFactory);
  try {
    const app = await startApp({
      gateways: [IoRoomsGateway],
      controllers: [AnnounceController],
      tracing: { broadcast: { instanceId }, authenticate: ({ token }) => (token ? { id: token } : null) },
      adapter: (nest) => new RedisIoAdapter(nest, factory),
    });
    return { app, pub, sub };
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    throw err;
  }
}

async function stop(instance: Instance | undefined): Promise<void> {
  if (!instance) return;
  await instance.app.close();
  // QUIT after the adapters' UNSUBSCRIBEs (app.close() sent them): a disconnect would fail them unhandled.
  await Promise.all([instance.pub, instance.sub].map((c) => c.quit().catch(() => c.disconnect())));
}

async function connect(instance: Instance, user: string, rooms: string[] = []): Promise<Client> {
  const socket = io(`${instance.app.httpUrl}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: user } });
  const client: Client = { socket, events: [], packets: [] };
  clients.push(client);
  socket.io.on('open', () => socket.io.engine.on('packet', (p: { type: string; data?: unknown }) => p.type === 'message' && client.packets.push(String(p.data))));
  socket.onAny((event: string, ...args: unknown[]) => {
    if (event !== IO_SESSION_EVENT) client.events.push({ event, args });
  });
  await waitFor(() => socket.connected, 5000, `${user} connected`);
  for (const room of rooms) await socket.timeout(5000).emitWithAck('join', { room });
  return client;
}

async function said(client: Client, text: string): Promise<Received> {
  return waitFor(() => client.events.find((e) => e.event === 'said' && (e.args[0] as { text?: string }).text === text), 5000, `"said ${text}"`);
}

const on = (instanceId: string) => (s: ReadableSpan) => s.attributes['ws.broadcast.instance_id'] === instanceId;

/** Both the traced instances' publishers and every instance's subscriptions are up (after a Redis restart). */
async function waitRedisReady(): Promise<void> {
  const admin = new Redis(redis.url);
  try {
    await waitFor(async () => {
      const numsub = (await admin.pubsub('NUMSUB', 'socket.io-request#/chat#')) as [string, number];
      return a.pub.status === 'ready' && b.pub.status === 'ready' && numsub[1] === 3;
    }, 15000, 'Redis clients ready and resubscribed');
  } finally {
    admin.disconnect();
  }
}

describeWithRedis('socket.io over @socket.io/redis-adapter: broadcasts across instances, traced', () => {
  beforeAll(async () => {
    telemetry.start();
    redis = await RedisServer.start();
    a = await start('io-a', true);
    b = await start('io-b', true);
    stock = await start('io-stock', false);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.socket.close();
  });

  afterAll(async () => {
    await stop(a);
    await stop(b);
    await stop(stock);
    await redis?.stop();
    await telemetry.shutdown();
  });

  it('delivers a room broadcast to the members on every instance exactly as the stock adapter does', async () => {
    const a1 = await connect(a, 'ann', ['r1']);
    const a2 = await connect(a, 'abe');
    const b1 = await connect(b, 'bob', ['r1']);
    const s1 = await connect(stock, 'sue', ['r1']);

    expect(await a1.socket.timeout(5000).emitWithAck('say', { room: 'r1', text: 'hello' })).toEqual({ sent: true, $meta: { traceId: expect.stringMatching(TRACE_ID) } });
    for (const c of [a1, b1, s1]) expect((await said(c, 'hello')).args).toEqual([{ room: 'r1', text: 'hello' }]);

    // What the traced instance b wrote is byte for byte what the stock instance wrote.
    const raw = (c: Client) => c.packets.filter((p) => p.includes('"said"'));
    expect(raw(b1)).toEqual(['2/chat,["said",{"room":"r1","text":"hello"}]']);
    expect(raw(b1)).toEqual(raw(s1));

    // A stock instance's broadcast reaches the traced ones as usual.
    await s1.socket.timeout(5000).emitWithAck('say', { room: 'r1', text: 'from stock' });
    for (const c of [a1, b1]) expect((await said(c, 'from stock')).args).toEqual([{ room: 'r1', text: 'from stock' }]);
    for (const c of [a1, b1, s1]) expect(c.events.filter((e) => e.event === 'said')).toHaveLength(2);
    expect(a2.events.filter((e) => e.event === 'said')).toEqual([]);
  });

  it("delivers on the other instance in a process span of the publisher's trace, child of its send span", async () => {
    const a1 = await connect(a, 'cat', ['r2']);
    const b1 = await connect(b, 'dan', ['r2']);
    const b2 = await connect(b, 'eve', ['r2']);
    const ack = (await a1.socket.timeout(5000).emitWithAck('say', { room: 'r2', text: 'traced' })) as { $meta: { traceId: string } };
    const traceId = ack.$meta.traceId;
    for (const c of [b1, b2]) await said(c, 'traced');

    const message = await telemetry.waitForSpan((s) => s.name === 'process say' && s.spanContext().traceId === traceId);
    const send = await telemetry.waitForSpan((s) => s.name === 'send said' && s.spanContext().traceId === traceId && on('io-a')(s));
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(message.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'socket.io',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'r2',
      'messaging.batch.message_count': 1,
    });

    const deliver = await telemetry.waitForSpan((s) => s.name === 'process said' && s.spanContext().traceId === traceId && on('io-b')(s));
    expect(deliver.kind).toBe(SpanKind.CONSUMER);
    expect(deliver.spanContext().traceId).toBe(traceId);
    expect(deliver.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(deliver.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(deliver.attributes).toMatchObject({
      'messaging.system': 'socket.io',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'r2',
      'messaging.batch.message_count': 2,
      'messaging.message.id': send.attributes['messaging.message.id'],
      'ws.broadcast.origin_instance_id': 'io-a',
    });
    // One delivery span: a ignores its own publication, and the stock instance (no member of r2) drops it.
    expect(telemetry.spans().filter((s) => s.name === 'process said' && s.spanContext().traceId === traceId)).toHaveLength(1);

    const line = await logs.waitFor({ msg: 'ws.broadcast', instance_id: 'io-b', trace_id: traceId });
    expect(line).toMatchObject({ event: 'said', room: 'r2', recipients: 2, origin_instance_id: 'io-a', transport: 'socket.io', path: '/chat' });
    expect(line.lag_ms).toEqual(expect.any(Number));
    await logs.waitFor({ msg: 'ws.broadcast', instance_id: 'io-a', trace_id: traceId, recipients: 1 });
  });

  it('traces a broadcast an HTTP controller starts the same way', async () => {
    const b1 = await connect(b, 'gus', ['r6']);
    expect((await fetch(`${a.app.httpUrl}/rooms/r6/announce`, { method: 'POST' })).status).toBe(201);
    const got = await waitFor(() => b1.events.find((e) => e.event === 'announce'), 5000, 'the announce on b');
    expect(got.args).toEqual([{ room: 'r6' }]);
    const send = await telemetry.waitForSpan((s) => s.name === 'send announce' && on('io-a')(s));
    const deliver = await telemetry.waitForSpan((s) => s.name === 'process announce' && on('io-b')(s));
    expect(deliver.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(deliver.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(deliver.attributes['messaging.batch.message_count']).toBe(1);
  });

  it('carries the trace in the flags the Redis adapter publishes, and nothing in the packet (the pinned internals)', async () => {
    const installed = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@socket.io/redis-adapter/package.json'), 'utf8')) as { version: string };
    const peers = JSON.parse(readFileSync(new URL('../../libs/tracing-ws/package.json', import.meta.url), 'utf8')) as { peerDependencies: Record<string, string> };
    expect(peers.peerDependencies['@socket.io/redis-adapter']).toBe('~8.3.0');
    expect(installed.version).toMatch(/^8\.3\.\d+$/);

    type Notepack = { decode(buffer: Buffer): unknown };
    // notepack.io: the Redis adapter's default parser (MessagePack).
    const notepack = (await import('notepack.io')) as Partial<Notepack> & { default?: Notepack };
    const decode = notepack.default?.decode ?? notepack.decode!;
    const spy = new Redis(redis.url);
    const published: unknown[] = [];
    spy.on('pmessageBuffer', (_pattern: Buffer, _channel: Buffer, message: Buffer) => published.push(decode(message)));
    try {
      await spy.psubscribe('socket.io#/chat#*');
      const a1 = await connect(a, 'fay', ['r3']);
      await a1.socket.timeout(5000).emitWithAck('say', { room: 'r3', text: 'on the wire' });
      const [, packet, opts] = (await waitFor(() => published[0], 5000, 'a publication')) as [string, { type: number; data: unknown[]; nsp: string }, { rooms: string[]; flags: Record<string, unknown> }];
      expect(packet).toEqual({ type: 2, data: ['said', { room: 'r3', text: 'on the wire' }], nsp: '/chat' });
      expect(opts.rooms).toEqual(['r3']);
      const send = await telemetry.waitForSpan((s) => s.name === 'send said' && s.attributes['messaging.destination.name'] === 'r3');
      const { traceId, spanId } = send.spanContext();
      expect(opts.flags.tracingWs).toEqual({
        v: 1,
        id: send.attributes['messaging.message.id'],
        origin: 'io-a',
        event: 'said',
        traceparent: `00-${traceId}-${spanId}-01`,
        publishedAt: expect.any(Number),
      });
    } finally {
      spy.disconnect();
    }
  });

  it('counts publications, receptions and their lag in the ws_broadcast_* families', async () => {
    const before = await a.app.metrics();
    const a1 = await connect(a, 'gil', ['r4']);
    const b1 = await connect(b, 'hal', ['r4']);
    await a1.socket.timeout(5000).emitWithAck('say', { room: 'r4', text: 'm1' });
    await said(b1, 'm1');
    await b1.socket.timeout(5000).emitWithAck('say', { room: 'r4', text: 'm2' });
    await said(a1, 'm2');
    // One registry per process: both instances count into the same series.
    const delta = (text: string, name: string) => metricValue(text, name) - metricValue(before, name);
    const after = await waitFor(async () => {
      const text = await a.app.metrics();
      return delta(text, 'ws_broadcast_published_total') === 2 && text;
    }, 5000, 'two publications counted');
    expect(delta(after, 'ws_broadcast_received_total')).toBe(2);
    expect(delta(after, 'ws_broadcast_lag_seconds_count')).toBe(2);
  });

  it('keeps local delivery while Redis is down, counts and logs the failure without throwing, and resumes when Redis returns', async () => {
    const a1 = await connect(a, 'ida', ['r5']);
    const a2 = await connect(a, 'jon', ['r5']);
    const b1 = await connect(b, 'kim', ['r5']);
    const failed = async () => metricValue(await a.app.metrics(), 'ws_broadcast_failed_total', { reason: 'publish' });
    const failedBefore = await failed();

    await redis.stop();
    await waitFor(() => a.pub.status !== 'ready', 5000, "a's publisher to notice");
    expect(await a1.socket.timeout(5000).emitWithAck('say', { room: 'r5', text: 'during outage' })).toEqual({ sent: true, $meta: { traceId: expect.stringMatching(TRACE_ID) } });
    for (const c of [a1, a2]) await said(c, 'during outage');
    await waitFor(async () => (await failed()) === failedBefore + 1, 5000, 'the failed publication counted');
    const down = await logs.waitFor({ msg: 'ws.broadcast_backend_down', instance_id: 'io-a', transport: 'socket.io' });
    expect(down).toMatchObject({ backend: 'redis', reason: expect.any(String) });
    expect(logs.find({ msg: 'ws.unhandled_rejection' })).toEqual([]);

    await redis.restart();
    await waitRedisReady();
    await a1.socket.timeout(5000).emitWithAck('say', { room: 'r5', text: 'after outage' });
    await said(b1, 'after outage');
    await logs.waitFor({ msg: 'ws.broadcast_backend_up', instance_id: 'io-a', transport: 'socket.io' });
    // The outage's broadcast was not queued and replayed late.
    expect(b1.events.filter((e) => e.event === 'said').map((e) => (e.args[0] as { text: string }).text)).toEqual(['after outage']);
  });

  it('refuses, naming the fix, a socket.io server that TracingIoAdapter did not create', async () => {
    const { pub, sub } = redisClients(redis.url);
    const server = new Server();
    try {
      const factory = await createTracedRedisAdapter(pub, sub);
      expect(() => server.adapter(factory)).toThrow(/was not created by TracingIoAdapter.*useWebSocketAdapter\(new TracingIoAdapter\(app\)\)/);
    } finally {
      // Never attached to an HTTP server: nothing of it to close.
      pub.disconnect();
      sub.disconnect();
    }
  });
});
