import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WsAdminConnection } from '@tracing-ws/nestjs';
import { ADMIN_HEADERS, AdminChatGateway, adminModule } from '../admin/admin-fixtures.js';
import { metricValue } from '../support/metrics.js';
import { SseStream } from '../support/sse.js';
import { waitFor } from '../support/wait.js';
import { accepted, errorData, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

// The admin surface is transport-independent: the same listing, live trace, bounds and
// debug sessions for a ws and a socket.io connection (one instance, no Redis).

describe.each(TRANSPORTS)('the admin surface over $name', (harness) => {
  let app: HarnessApp;
  const admin = (path: string, init: RequestInit = {}) => fetch(`${app.httpUrl}/admin/${path}`, { ...init, headers: ADMIN_HEADERS });

  beforeAll(async () => {
    app = await harness.start({
      gateways: [AdminChatGateway],
      imports: [adminModule({ allowPayloads: true, eventsPerSecond: 50, redactPaths: ['password', 'card.*'] })],
      options: { authenticate: ({ token }) => ({ id: token }), rateLimit: { messagesPerSecond: 0 } },
    });
  });
  afterAll(() => app.close());

  it('lists the connection with its transport and the trace id its client got, and disconnects it with the chosen code', async () => {
    const client = accepted(await app.connect({ token: 'hana' }));
    await client.request('say', { text: 'hi' });
    const listing = (await (await admin('connections?user=hana')).json()) as { complete: boolean; connections: WsAdminConnection[] };
    expect(listing.complete).toBe(true);
    expect(listing.connections).toHaveLength(1);
    expect(listing.connections[0]).toMatchObject({ userId: 'hana', traceId: client.traceId, transport: harness.name, messagesIn: 1, messagesOut: 1 });
    // A watch of that one connection sees its messages.
    const trace = await SseStream.open(`${app.httpUrl}/admin/trace?connection=${listing.connections[0]!.connectionId}`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'watch' });
    const reply = await client.request('say', { text: 'watched' });
    await trace.waitFor({ type: 'message', connection_id: listing.connections[0]!.connectionId, trace_id: reply.meta!.traceId }, 1000);
    trace.close();
    const res = await admin(`connections/${listing.connections[0]!.connectionId}?code=4000&reason=bye`, { method: 'DELETE' });
    expect(await res.json()).toMatchObject({ closed: 1 });
    expect((await client.closed()).code).toBe(4000);
    await app.logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: client.traceId, code: 4000, closed_by: 'admin' });
  });

  it('streams the connect, message, error and close of a watched user with the trace ids the client got, payloads only when asked, redacted', async () => {
    const trace = await SseStream.open(`${app.httpUrl}/admin/trace?user=ivan&payloads=1`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'watch', payloads: true });
    const client = accepted(await app.connect({ token: 'ivan' }));
    await trace.waitFor({ type: 'connected', connection_trace_id: client.traceId }, 1000);
    const reply = await client.request('say', { text: 'hello', password: 'hunter2', card: { number: '4111' } });
    const message = await trace.waitFor({ type: 'message', event: 'say', trace_id: reply.meta!.traceId }, 1000);
    expect(message).toMatchObject({ outcome: 'ok', transport: harness.name });
    expect(JSON.parse(message.payload as string)).toEqual({ text: 'hello', password: '[redacted]', card: { number: '[redacted]' } });
    expect(trace.text).not.toContain('hunter2');
    expect(trace.text).not.toContain('4111');
    const failed = await client.request('fail', {});
    await trace.waitFor({ type: 'error', event: 'fail', error_code: 'BAD_REQUEST', trace_id: errorData(failed).traceId }, 1000);
    await client.close();
    await trace.waitFor({ type: 'closed', closed_by: 'client', connection_trace_id: client.traceId }, 1000);
    trace.close();

    // Without ?payloads=1 no payload, even where the app allows them.
    const plain = await SseStream.open(`${app.httpUrl}/admin/trace?user=ivan`, ADMIN_HEADERS);
    await plain.waitFor({ type: 'watch', payloads: false });
    const again = accepted(await app.connect({ token: 'ivan' }));
    await again.request('say', { text: 'quiet' });
    await plain.waitFor({ type: 'message', event: 'say' }, 1000);
    expect(plain.events.some((e) => 'payload' in e)).toBe(false);
    await again.close();
    plain.close();
  });

  it('drops and counts what a flooding user produces past the watch bound, and serves that user as before', async () => {
    const dropped = async () => metricValue(await app.metrics(), 'ws_admin_trace_dropped_total', { reason: 'rate' });
    const before = await dropped();
    const trace = await SseStream.open(`${app.httpUrl}/admin/trace?user=jo`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'watch' });
    const client = accepted(await app.connect({ token: 'jo' }));
    const started = Date.now();
    const total = 10_000;
    for (let i = 0; i < total; i++) client.send('say', { text: `m${i}` });
    for (let i = 0; i < total; i++) await client.next('say', 10_000);
    const seconds = (Date.now() - started) / 1000;
    // Every message answered; each gives two events (message, sent), 50 per second go out.
    expect(await dropped()).toBeGreaterThan(before + total);
    const messages = trace.events.filter((e) => e.type === 'message' || e.type === 'sent');
    expect(messages.length).toBeLessThanOrEqual(50 * (seconds + 2));
    await waitFor(() => trace.events.some((e) => typeof e.dropped === 'number'), 3000, 'an event saying how many were dropped');
    await client.close();
    trace.close();
  });

  it('raises the message lines of one user for a debug session, and no one else\'s', async () => {
    const watched = accepted(await app.connect({ token: 'kim' }));
    const other = accepted(await app.connect({ token: 'lee' }));
    const res = await admin('debug?user=kim&level=warn&durationMs=60000', { method: 'POST' });
    expect(res.status).toBe(201);
    const reply = await watched.request('say', { text: 'a' });
    const otherReply = await other.request('say', { text: 'b' });
    const line = await app.logs.waitFor({ msg: 'ws.message_handled', trace_id: reply.meta!.traceId });
    expect(line).toMatchObject({ level: 40, debug_session: true, user_id: 'kim' });
    // The other user's line stays at the configured level (debug: 20) and unmarked.
    const otherLine = await app.logs.waitFor({ msg: 'ws.message_handled', trace_id: otherReply.meta!.traceId });
    expect(otherLine.level).toBe(20);
    expect(otherLine.debug_session).toBeUndefined();
    await admin('debug?user=kim', { method: 'DELETE' });
    const after = await watched.request('say', { text: 'c' });
    expect((await app.logs.waitFor({ msg: 'ws.message_handled', trace_id: after.meta!.traceId })).level).toBe(20);
    await watched.close();
    await other.close();
  });
});


