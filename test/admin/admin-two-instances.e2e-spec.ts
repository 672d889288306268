import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import type { WsAdminConnection } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { describeWithRedis, RedisServer } from '../support/redis-server.js';
import { SseStream } from '../support/sse.js';
import { waitFor } from '../support/wait.js';
import { connect, type TestSocket } from '../support/ws-client.js';
import { ADMIN_HEADERS, AdminChatGateway, adminModule } from './admin-fixtures.js';
import { CONFORMANCE_PATH } from '../conformance/harness.js';

interface Listing {
  complete: boolean;
  instances: string[];
  connections: WsAdminConnection[];
}

const keyPrefix = `admin-${process.pid}:`;
let redis: RedisServer;
let a: TestApp;
let b: TestApp;
const sockets: TestSocket[] = [];

async function start(instanceId: string): Promise<TestApp> {
  return startApp({
    gateways: [AdminChatGateway],
    imports: [adminModule()],
    tracing: { authenticate: ({ token }) => ({ id: token.split('.')[0]! }), broadcast: { instanceId, redis: { url: redis.url, keyPrefix } } },
  });
}

async function user(app: TestApp, token: string): Promise<TestSocket> {
  const socket = await connect(`${app.wsUrl}${CONFORMANCE_PATH}`, { headers: { authorization: `Bearer ${token}`, 'user-agent': 'admin-test/1.0' } });
  sockets.push(socket);
  return socket;
}

async function list(app: TestApp, query: string): Promise<Listing> {
  const res = await fetch(`${app.httpUrl}/admin/connections?${query}`, { headers: ADMIN_HEADERS });
  expect(res.status).toBe(200);
  return (await res.json()) as Listing;
}

describeWithRedis('the admin surface across two instances on Redis', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
    a = await start('admin-a');
    b = await start('admin-b');
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('lists a user connected to each instance once per connection, with its fields and counters from the owning instance', async () => {
    const onA = await user(a, 'carol.1');
    const onB = await user(b, 'carol.2');
    await user(b, 'dave');
    await onB.request('join', { room: 'r1' }, 'join');
    await onB.request('say', { text: 'x' }, 'say');
    onB.send('fail', {});
    await onB.next((f) => f.event === 'error');

    const listing = await list(a, 'user=carol');
    expect(listing.complete).toBe(true);
    expect(listing.instances.sort()).toEqual(['admin-a', 'admin-b']);
    expect(listing.connections).toHaveLength(2);
    const byInstance = new Map(listing.connections.map((c) => [c.instanceId, c]));
    const fromB = byInstance.get('admin-b')!;
    expect(fromB).toMatchObject({
      traceId: onB.upgradeHeaders['x-trace-id'],
      userId: 'carol',
      path: CONFORMANCE_PATH,
      transport: 'ws',
      remoteAddress: '127.0.0.1',
      userAgent: 'admin-test/1.0',
      messagesIn: 3,
      messagesOut: 3,
      rooms: ['r1'],
      lastErrorCode: 'BAD_REQUEST',
    });
    expect(fromB.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fromB.bytesIn).toBeGreaterThan(0);
    expect(fromB.bytesOut).toBeGreaterThan(0);
    expect(Date.parse(fromB.openedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(byInstance.get('admin-a')).toMatchObject({ traceId: onA.upgradeHeaders['x-trace-id'], messagesIn: 0, lastErrorCode: null });

    // Filtered by transport and path too; everyone without a user filter.
    expect((await list(b, 'transport=socket.io')).connections).toEqual([]);
    expect((await list(b, `path=${CONFORMANCE_PATH}`)).connections.map((c) => c.userId).sort()).toEqual(['carol', 'carol', 'dave']);
  });

  it('closes a socket held by instance B through instance A, with the chosen code, and logs closed_by admin', async () => {
    const onB = await user(b, 'erin');
    const [conn] = (await list(a, 'user=erin')).connections;
    const res = await fetch(`${a.httpUrl}/admin/connections/${conn!.connectionId}?code=4321&reason=operator`, { method: 'DELETE', headers: ADMIN_HEADERS });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ closed: 1, complete: true });
    expect(await onB.closed).toEqual({ code: 4321, reason: 'operator' });
    await logs.waitFor({ msg: 'ws.disconnected', connection_id: conn!.connectionId, code: 4321, closed_by: 'admin' });

    // Every connection of a user, on both instances; a code a server may not send is refused.
    const s1 = await user(a, 'frank');
    const s2 = await user(b, 'frank');
    const refused = await fetch(`${a.httpUrl}/admin/connections?user=frank&code=1006`, { method: 'DELETE', headers: ADMIN_HEADERS });
    expect(refused.status).toBe(400);
    const all = await fetch(`${a.httpUrl}/admin/connections?user=frank&code=1008`, { method: 'DELETE', headers: ADMIN_HEADERS });
    expect(await all.json()).toMatchObject({ closed: 2, complete: true });
    expect((await s1.closed).code).toBe(1008);
    expect((await s2.closed).code).toBe(1008);
  });

  it('raises the message lines of a user on B for a debug session started through A, and ends it', async () => {
    const onB = await user(b, 'hugo');
    const res = await fetch(`${a.httpUrl}/admin/debug?user=hugo&level=warn&durationMs=60000`, { method: 'POST', headers: ADMIN_HEADERS });
    expect(await res.json()).toMatchObject({ complete: true, instances: expect.arrayContaining(['admin-a', 'admin-b']) });
    const reply = await onB.request('say', { text: 'x' }, 'say');
    expect(await logs.waitFor({ msg: 'ws.message_handled', trace_id: reply.meta!.traceId })).toMatchObject({ level: 40, debug_session: true });
    const ended = await fetch(`${a.httpUrl}/admin/debug?user=hugo`, { method: 'DELETE', headers: ADMIN_HEADERS });
    expect(await ended.json()).toMatchObject({ complete: true });
    const after = await onB.request('say', { text: 'y' }, 'say');
    // No SDK in this file: a message's trace id is the connection's, so take the last line of it.
    const lines = await waitFor(() => { const l = logs.find({ msg: 'ws.message_handled', trace_id: after.meta!.traceId }); return l.length === 2 && l; }, 5000, 'the second line');
    expect(lines[1]).toMatchObject({ level: 20 });
    expect(lines[1]!.debug_session).toBeUndefined();
  });

  it('streams to a watcher on A, within a second, the join, message, error and close of a user on B, with the trace ids the client got and no payloads', async () => {
    const trace = await SseStream.open(`${a.httpUrl}/admin/trace?user=gina`, ADMIN_HEADERS);
    expect(trace.status).toBe(200);
    expect(trace.contentType).toContain('text/event-stream');
    const watch = await trace.waitFor({ type: 'watch' });
    expect(watch.instances).toEqual(expect.arrayContaining(['admin-a', 'admin-b']));

    const started = Date.now();
    const gina = await user(b, 'gina');
    const sessionTraceId = gina.upgradeHeaders['x-trace-id'];
    const connected = await trace.waitFor({ type: 'connected' }, 1000);
    expect(connected).toMatchObject({ instance_id: 'admin-b', user_id: 'gina', connection_trace_id: sessionTraceId });

    const reply = await gina.request('say', { text: 'hello', password: 'hunter2' }, 'say');
    const message = await trace.waitFor({ type: 'message', event: 'say' }, 1000);
    expect(message).toMatchObject({ trace_id: reply.meta!.traceId, outcome: 'ok', instance_id: 'admin-b' });
    expect(message.size).toBeGreaterThan(0);
    expect(typeof message.duration_ms).toBe('number');
    await trace.waitFor({ type: 'sent', event: 'say', trace_id: reply.meta!.traceId }, 1000);

    gina.send('fail', {});
    const failed = await gina.next((f) => f.event === 'error');
    const error = await trace.waitFor({ type: 'error', event: 'fail' }, 1000);
    expect(error).toMatchObject({ error_code: 'BAD_REQUEST', trace_id: failed.data.traceId });

    await gina.close();
    const closed = await trace.waitFor({ type: 'closed' }, 1000);
    expect(closed).toMatchObject({ code: 1000, closed_by: 'client', connection_trace_id: sessionTraceId });
    expect(Date.now() - started).toBeLessThan(4000);

    // No payloads by default: neither the field nor the text.
    expect(trace.events.some((e) => 'payload' in e)).toBe(false);
    expect(trace.text).not.toContain('hunter2');
    expect(trace.text).not.toContain('hello');
    trace.close();
    await waitFor(() => logs.find({ msg: 'ws.admin_watch_ended', watch_id: watch.watch_id })[0], 5000, 'the watch to end when its reader left');
  });

  it('gives a watch to an instance that starts while it is open', async () => {
    const trace = await SseStream.open(`${a.httpUrl}/admin/trace?user=ines`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'watch' });
    const c = await start('admin-c');
    try {
      const ines = await user(c, 'ines');
      // Her messages reach the watcher once C has been told of the watch (within 2 s).
      await waitFor(async () => {
        await ines.request('say', { text: 'ping' }, 'say');
        return trace.find({ type: 'message', instance_id: 'admin-c', connection_trace_id: ines.upgradeHeaders['x-trace-id'] })[0];
      }, 6000, 'a message event from the new instance');
    } finally {
      trace.close();
      await Promise.all(sockets.splice(0).map((s) => s.close()));
      await c.close();
    }
  });
});
