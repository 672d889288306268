import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { connect, type TestSocket } from '../support/ws-client.js';
import { chatClient, HistoryGateway, upTo } from './history.fixture.js';

const telemetry = new TestTelemetry();
let app: TestApp;
let proxy: TcpProxy;
const closers: Array<() => unknown> = [];

async function start(history: { size?: number; ttlMs?: number } = {}, port?: number): Promise<TestApp> {
  return startApp({ gateways: [HistoryGateway], tracing: { broadcast: { history } }, port });
}

/** A client behind the proxy, joined to `room`, and a publisher straight to the app. */
async function setUp(room: string) {
  const chat = chatClient(`ws://127.0.0.1:${proxy.port}/chat`);
  closers.push(() => chat.client.close());
  await chat.client.connect();
  await chat.client.join(room);
  const publisher = await connect(`${app.wsUrl}/chat`);
  closers.push(() => publisher.close());
  return { ...chat, publisher };
}

async function publish(publisher: TestSocket, room: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await publisher.request('say', { room, i }, 'sent');
}

/** Cuts the client's TCP connection (no close frame) and keeps the network down until `up()`. */
async function cut(client: ReturnType<typeof chatClient>['client']): Promise<() => void> {
  proxy.blocked = true;
  const reconnecting = new Promise<void>((resolve) => {
    const off = client.on('reconnecting', () => (off(), resolve()));
  });
  proxy.cut();
  await reconnecting;
  return () => (proxy.blocked = false);
}

describe('room history in memory (one instance, no Redis)', () => {
  beforeAll(async () => {
    telemetry.start();
    app = await start();
    proxy = await TcpProxy.start(Number(new URL(app.httpUrl).port));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    proxy.blocked = false;
  });
  afterAll(async () => {
    await proxy?.close();
    await app?.close();
    await telemetry.shutdown();
  });

  it('gives a client whose TCP connection was cut all 50 messages published meanwhile, in order, none twice, the missed ones marked recovered', async () => {
    const { client, seen, recoveries, failures, publisher } = await setUp('lobby');
    await publish(publisher, 'lobby', 0, 10);
    await waitFor(() => seen.length === 10, 5000, 'the live messages');
    const up = await cut(client);
    await publish(publisher, 'lobby', 10, 50);
    up();
    await waitFor(() => recoveries.length === 1, 5000, 'the recovery');
    expect(seen.map((s) => s.i)).toEqual(upTo(50));
    expect(seen.filter((s) => s.recovered).map((s) => s.i)).toEqual(upTo(50).slice(10));
    expect(seen.map((s) => s.offset)).toEqual(upTo(50).map((i) => i + 1));
    expect(recoveries).toEqual([{ room: 'lobby', count: 40 }]);
    expect(failures).toEqual([]);
    // And it carries on live after the replay.
    await publish(publisher, 'lobby', 50, 52);
    await waitFor(() => seen.length === 52, 5000, 'live after recovery');
    expect(seen.slice(50).map((s) => [s.i, s.recovered])).toEqual([[50, false], [51, false]]);
  });

  it('links each replayed delivery to the publish that first sent it, carries its trace id, and counts and logs the recovery', async () => {
    const before = await app.metrics();
    const { client, seen, recoveries, publisher } = await setUp('traced');
    await publish(publisher, 'traced', 0, 1);
    await waitFor(() => seen.length === 1, 5000, 'the live message');
    const up = await cut(client);
    await publish(publisher, 'traced', 1, 4);
    up();
    await waitFor(() => recoveries.length === 1, 5000, 'the recovery');
    const replayed = seen.find((s) => s.i === 2)!;
    expect(replayed.recovered).toBe(true);
    const publishSpan = await telemetry.waitForSpan((s) => s.name === 'send said' && s.spanContext().traceId === replayed.traceId);
    const replaySpan = await telemetry.waitForSpan((s) => s.name === 'process said' && s.attributes['ws.history.offset'] === 3 && s.attributes['ws.history.recovered'] === true);
    expect(replaySpan.kind).toBe(SpanKind.CONSUMER);
    expect(replaySpan.links.map((l) => [l.context.spanId, l.attributes?.['ws.link.type']])).toEqual([[publishSpan.spanContext().spanId, 'publish']]);
    expect(replaySpan.attributes['messaging.destination.name']).toBe('traced');
    const text = await app.metrics();
    expect(metricValue(text, 'ws_history_recovered_messages_total') - metricValue(before, 'ws_history_recovered_messages_total')).toBe(3);
    expect(metricValue(text, 'ws_history_entries')).toBeGreaterThanOrEqual(4);
    expect(metricValue(text, 'ws_history_bytes')).toBeGreaterThan(0);
    expect(text).toContain('ws_history_recoveries_failed_total{reason="gap"}');
    const line = logs.find({ msg: 'ws.history_recovered', room: 'traced' })[0];
    expect(line).toMatchObject({ from_offset: 1, offset: 4, recovered: 3, path: '/chat', transport: 'ws' });
    expect(line?.connection_id).toEqual(expect.any(String));
  });

  it('tells the application once, and replays nothing, when more was missed than the history keeps', async () => {
    const small = await start({ size: 5 });
    const smallProxy = await TcpProxy.start(Number(new URL(small.httpUrl).port));
    closers.push(() => smallProxy.close(), () => small.close());
    const chat = chatClient(`ws://127.0.0.1:${smallProxy.port}/chat`);
    closers.unshift(() => chat.client.close());
    await chat.client.connect();
    await chat.client.join('busy');
    const publisher = await connect(`${small.wsUrl}/chat`);
    closers.unshift(() => publisher.close());
    await publish(publisher, 'busy', 0, 2);
    await waitFor(() => chat.seen.length === 2, 5000, 'the live messages');
    const before = metricValue(await small.metrics(), 'ws_history_recoveries_failed_total', { reason: 'gap' });
    smallProxy.blocked = true;
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    smallProxy.cut();
    await reconnecting;
    await publish(publisher, 'busy', 2, 20);
    smallProxy.blocked = false;
    await waitFor(() => chat.failures.length > 0, 5000, 'the recovery-failed event');
    expect(chat.failures).toEqual([{ room: 'busy', reason: 'gap' }]);
    expect(chat.seen.filter((s) => s.recovered)).toEqual([]);
    expect(metricValue(await small.metrics(), 'ws_history_recoveries_failed_total', { reason: 'gap' }) - before).toBe(1);
    // From the position the failure gave, live delivery goes on without asking again.
    await publish(publisher, 'busy', 20, 22);
    await waitFor(() => chat.seen.length === 4, 5000, 'live after the failure');
    expect(chat.seen.map((s) => s.i)).toEqual([0, 1, 20, 21]);
    expect(chat.failures).toHaveLength(1);
  });

  it('fails with gap when what was missed is older than ttlMs', async () => {
    const short = await start({ ttlMs: 1000 });
    const shortProxy = await TcpProxy.start(Number(new URL(short.httpUrl).port));
    closers.push(() => shortProxy.close(), () => short.close());
    const chat = chatClient(`ws://127.0.0.1:${shortProxy.port}/chat`);
    closers.unshift(() => chat.client.close());
    await chat.client.connect();
    await chat.client.join('slow');
    const publisher = await connect(`${short.wsUrl}/chat`);
    closers.unshift(() => publisher.close());
    shortProxy.blocked = true;
    const reconnecting = new Promise<void>((resolve) => chat.client.on('reconnecting', () => resolve()));
    shortProxy.cut();
    await reconnecting;
    await publish(publisher, 'slow', 0, 3);
    // Older than ttlMs by the time the client is back.
    const publishedAt = Date.now();
    await waitFor(() => Date.now() - publishedAt > 1200, 3000, 'the history to age');
    shortProxy.blocked = false;
    await waitFor(() => chat.failures.length > 0, 5000, 'the recovery-failed event');
    expect(chat.failures).toEqual([{ room: 'slow', reason: 'gap' }]);
    expect(chat.seen).toEqual([]);
  });

  it('fails with epoch when the server restarted (its in-memory history is another one)', async () => {
    const first = await start();
    const port = Number(new URL(first.httpUrl).port);
    const chat = chatClient(`ws://127.0.0.1:${port}/chat`);
    closers.push(() => chat.client.close());
    await chat.client.connect();
    await chat.client.join('restart');
    const publisher = await connect(`${first.wsUrl}/chat`);
    await publish(publisher, 'restart', 0, 3);
    await waitFor(() => chat.seen.length === 3, 5000, 'the live messages');
    await publisher.close();
    await first.close();
    const second = await start({}, port);
    closers.push(() => second.close());
    await waitFor(() => chat.failures.length > 0, 10000, 'the recovery-failed event');
    expect(chat.failures).toEqual([{ room: 'restart', reason: 'epoch' }]);
    const again = await connect(`${second.wsUrl}/chat`);
    closers.unshift(() => again.close());
    await publish(again, 'restart', 3, 5);
    await waitFor(() => chat.seen.length === 5, 5000, 'live in the new epoch');
    expect(chat.seen.map((s) => [s.i, s.offset, s.recovered])).toEqual([[0, 1, false], [1, 2, false], [2, 3, false], [3, 1, false], [4, 2, false]]);
  });

  it('answers a recover frame from a member with the gap, and ignores one from a non-member', async () => {
    const member = await connect(`${app.wsUrl}/chat`);
    const stranger = await connect(`${app.wsUrl}/chat`);
    closers.push(() => member.close(), () => stranger.close());
    await member.request('join', { room: 'gaps' }, 'joined');
    const position = (await member.next((f) => f.event === 'tracing-ws:position')).data as { epoch: string; offset: number };
    await publish(member, 'gaps', 0, 3);
    member.send('tracing-ws:recover', { room: 'gaps', epoch: position.epoch, offset: position.offset + 1 });
    const done = await member.next((f) => f.event === 'tracing-ws:recovered');
    expect(done.data).toEqual({ room: 'gaps', epoch: position.epoch, offset: position.offset + 3, count: 2 });
    const replayed = member.frames.filter((f) => f.event === 'said' && (f.meta as { recovered?: boolean } | undefined)?.recovered);
    expect(replayed.map((f) => f.data.i)).toEqual([1, 2]);
    stranger.send('tracing-ws:recover', { room: 'gaps', epoch: position.epoch, offset: 0 });
    await stranger.request('join', { room: 'elsewhere' }, 'joined');
    expect(stranger.frames.filter((f) => f.event === 'said' || f.event === 'tracing-ws:recovered' || f.event === 'error')).toEqual([]);
  });
});
