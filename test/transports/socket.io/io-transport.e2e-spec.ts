import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import { IO_CLOSE_EVENT, IO_SESSION_EVENT } from '@tracing-ws/nestjs/socket.io';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { waitFor } from '../../support/wait.js';

/**
 * What only socket.io has: the auth payload, connect_error refusals and the
 * client's reconnection rules, acknowledgements as replies, namespaces,
 * socket.io's own heartbeat and payload limit, reconnection after a shutdown.
 * What both transports share is in test/conformance.
 */
const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

@TracedGateway()
@WebSocketGateway({ namespace: '/chat' })
class IoChatGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('whoami')
  whoami() {
    const connection = this.ws.connection!;
    return { connectionId: connection.connectionId, path: connection.path, transport: connection.transport, user: connection.user?.id, messageTraceId: this.ws.message?.traceId };
  }

  @SubscribeMessage('count')
  count() {
    return 42;
  }

  @SubscribeMessage('refuse')
  refuse() {
    throw new WsException('join the room first');
  }

  @SubscribeMessage('explode')
  explode() {
    throw new Error('db password=hunter2 unreachable');
  }
}

const authenticate = ({ token }: WsAuthRequest) => (token === 'alice-token' ? { id: 'alice' } : null);
const TRACE_ID = /^[0-9a-f]{32}$/;
const sockets: Socket[] = [];

function client(url: string, options: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(`${url}/chat`, { transports: ['websocket'], forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, ...options });
  sockets.push(socket);
  return socket;
}

function once<T>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (value: T) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

async function session(socket: Socket): Promise<{ traceId: string; connectionId: string }> {
  return once(socket, IO_SESSION_EVENT);
}

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe('socket.io transport', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [IoChatGateway], tracing: { authenticate, allowedOrigins: ['https://chat.example'] }, adapter: (app) => new TracingIoAdapter(app) });
  });
  afterAll(() => t.close());

  it('refuses a bad token with connect_error data {code, status, traceId}, and the official client does not retry', async () => {
    const rejected = () => metricValue(text, 'ws_handshake_rejections_total', { path: '/chat', transport: 'socket.io', reason: 'invalid_credentials' });
    let text = await t.metrics();
    const before = rejected();
    const socket = client(t.httpUrl, { auth: { token: 'stolen-token' } });
    const err = await once<Error & { data: { code: string; status: number; traceId: string } }>(socket, 'connect_error');
    expect(err.message).toBe('Unauthorized');
    expect(err.data).toEqual({ code: 'UNAUTHORIZED', status: 401, traceId: expect.stringMatching(TRACE_ID) });
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: err.data.traceId }, 5000);
    expect(line).toMatchObject({ reason: 'invalid_credentials', transport: 'socket.io', path: '/chat' });
    // socket.io-client gives up after a middleware refusal: no retry storm against a bad token.
    expect(socket.active).toBe(false);
    // Ten reconnection delays later the server has still seen one attempt.
    await new Promise((resolve) => setTimeout(resolve, 500));
    text = await t.metrics();
    expect(rejected() - before).toBe(1);
    expect(JSON.stringify(err.data)).not.toContain('stolen-token');
  });

  it('reads the credential and traceparent from the auth payload; the client learns its trace id from tracing-ws:session', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    const s = await session(socket);
    expect(s.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    const span = await telemetry.waitForSpan((sp) => sp.kind === SpanKind.SERVER && sp.spanContext().traceId === s.traceId);
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span.attributes['enduser.id']).toBe('alice');
    expect(span.name).toBe('GET /chat');
  });

  it('puts the trace id inside the first acknowledgement argument: $meta of an object, {data, $meta} of anything else', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' } });
    const s = await session(socket);
    const me = (await socket.emitWithAck('whoami', null)) as Record<string, unknown> & { $meta: { traceId: string } };
    expect(me).toMatchObject({ connectionId: s.connectionId, path: '/chat', transport: 'socket.io', user: 'alice' });
    expect(me.$meta.traceId).toMatch(TRACE_ID);
    expect(me.messageTraceId).toBe(me.$meta.traceId);
    const span = await telemetry.waitForSpan((sp) => sp.name === 'process whoami' && sp.spanContext().traceId === me.$meta.traceId);
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.attributes['messaging.system']).toBe('socket.io');
    expect(span.links[0]?.context.traceId).toBe(s.traceId);
    expect(await socket.emitWithAck('count', null)).toEqual({ data: 42, $meta: { traceId: expect.stringMatching(TRACE_ID) } });
  });

  it('continues a per-message traceparent sent as a trailing {$meta} argument, which the handler never sees', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' } });
    await session(socket);
    const reply = (await socket.emitWithAck('whoami', null, { $meta: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', id: 'w-9' } })) as { $meta: { traceId: string; id: string } };
    expect(reply.$meta).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: 'w-9' });
    const span = await telemetry.waitForSpan((sp) => sp.name === 'process whoami' && sp.spanContext().traceId === reply.$meta.traceId);
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it("acknowledges a failure with {error: {code, message, traceId, retryable}}, never an internal error's text", async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' } });
    await session(socket);
    const refused = (await socket.emitWithAck('refuse', null)) as { error: Record<string, unknown>; $meta: { traceId: string } };
    expect(refused.error).toEqual({ code: 'BAD_REQUEST', message: 'join the room first', traceId: refused.$meta.traceId, retryable: false });
    const exploded = (await socket.emitWithAck('explode', null)) as { error: Record<string, unknown> };
    expect(exploded.error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(TRACE_ID) });
    expect(JSON.stringify(exploded)).not.toContain('hunter2');
    const line = await logs.waitFor({ msg: 'ws.message_failed', trace_id: exploded.error.traceId }, 5000);
    expect(line).toMatchObject({ level: 50, error_code: 'INTERNAL', path: '/chat', event: 'explode' });
  });

  it('answers an event no handler takes with UNKNOWN_EVENT (ack, or the exception event) and counts it as "unknown", never by its name', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' } });
    await session(socket);
    const acked = (await socket.emitWithAck('no-such-event-7f3a', { x: 1 })) as { error: { code: string } };
    expect(acked.error.code).toBe('UNKNOWN_EVENT');
    const exception = once<{ code: string; traceId: string }>(socket, 'exception');
    socket.emit('another-unknown-9c1b', 1);
    expect((await exception).code).toBe('UNKNOWN_EVENT');
    const text = await t.metrics();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/chat', transport: 'socket.io', event: 'unknown' })).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain('no-such-event-7f3a');
    expect(text).not.toContain('another-unknown-9c1b');
  });

  it('records the namespace as the path and socket.io as the transport, in context, log lines and metric labels', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' } });
    const s = await session(socket);
    const connected = await logs.waitFor({ msg: 'ws.connected', connection_trace_id: s.traceId }, 5000);
    expect(connected).toMatchObject({ path: '/chat', transport: 'socket.io', user_id: 'alice', connection_id: s.connectionId });
    expect(metricValue(await t.metrics(), 'ws_connections_active', { path: '/chat', transport: 'socket.io' })).toBeGreaterThanOrEqual(1);
    socket.close();
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: s.traceId }, 5000);
    expect(gone).toMatchObject({ code: 1000, reason: 'client namespace disconnect', transport: 'socket.io' });
  });

  it('refuses a disallowed origin before any session, with 403 and X-Trace-ID, as on ws', async () => {
    const res = await fetch(`${t.httpUrl}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    const traceId = res.headers.get('x-trace-id');
    expect(traceId).toMatch(TRACE_ID);
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: traceId }, 5000);
    expect(line).toMatchObject({ reason: 'origin_not_allowed', path: '/socket.io', transport: 'socket.io', status: 403 });
    expect(await res.text()).not.toContain('evil.example');
  });
});

describe('socket.io heartbeat and payload limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [IoChatGateway], tracing: { authenticate, heartbeat: { intervalMs: 150 }, maxPayloadBytes: 1024 }, adapter: (app) => new TracingIoAdapter(app) });
  });
  afterAll(() => t.close());

  it("counts socket.io's ping timeout as a heartbeat timeout (a peer that stops answering pings)", async () => {
    // A raw engine.io peer that connects to /chat and never answers the server's pings.
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const peer = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const opened = new Promise<string>((resolve) =>
      peer.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('0')) peer.send(`40/chat,${JSON.stringify({ token: 'alice-token' })}`);
        if (text.startsWith('40/chat,')) resolve(text);
      }),
    );
    await opened;
    const closed = new Promise<void>((resolve) => peer.once('close', () => resolve()));
    await closed;
    const line = await logs.waitFor({ msg: 'ws.heartbeat_timeout', transport: 'socket.io' }, 5000);
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_id: line.connection_id }, 5000);
    expect(gone).toMatchObject({ code: 1006, reason: 'ping timeout' });
    expect(metricValue(await t.metrics(), 'ws_heartbeat_timeouts_total', { path: '/chat', transport: 'socket.io' })).toBe(1);
  });

  it('closes a client whose packet exceeds maxPayloadBytes, recording 1009 and PAYLOAD_TOO_LARGE', async () => {
    const socket = client(t.httpUrl, { auth: { token: 'alice-token' }, reconnection: false });
    const s = await session(socket);
    const disconnected = once<string>(socket, 'disconnect');
    socket.emit('whoami', 'x'.repeat(4096));
    await disconnected;
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: s.traceId }, 5000);
    expect(gone.code).toBe(1009);
    await logs.waitFor({ msg: 'ws.payload_too_large', connection_trace_id: s.traceId }, 5000);
    expect(metricValue(await t.metrics(), 'ws_message_errors_total', { path: '/chat', transport: 'socket.io', code: 'PAYLOAD_TOO_LARGE' })).toBe(1);
  });
});

describe('socket.io graceful shutdown', () => {
  it('tells clients the server is going away and closes the transport, so that socket.io-client reconnects (here, to the next instance on the port)', async () => {
    const first = await startApp({ gateways: [IoChatGateway], tracing: { authenticate }, adapter: (app) => new TracingIoAdapter(app) });
    const { port } = first.app.getHttpServer().address() as AddressInfo;
    const socket = client(first.httpUrl, { auth: { token: 'alice-token' }, reconnectionDelay: 200, reconnectionDelayMax: 400 });
    const before = await session(socket);
    const notice = once<{ code: number; reason: string }>(socket, IO_CLOSE_EVENT);
    const disconnect = once<string>(socket, 'disconnect');
    await first.close();
    expect(await notice).toEqual({ code: 1001, reason: 'Server shutting down' });
    // "transport close", not "io server disconnect": the client keeps trying.
    expect(await disconnect).toBe('transport close');
    expect(socket.active).toBe(true);
    await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: before.traceId, code: 1001 }, 5000);

    const next = await startApp({ gateways: [IoChatGateway], tracing: { authenticate }, adapter: (app) => new TracingIoAdapter(app), port });
    try {
      const after = await session(socket);
      expect(after.connectionId).not.toBe(before.connectionId);
      await waitFor(() => socket.connected, 5000, 'reconnected');
    } finally {
      socket.close();
      await next.close();
    }
  });
});
