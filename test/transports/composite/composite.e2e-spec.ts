import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, TracingWsAdapter, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import { TracingCompositeAdapter } from '@tracing-ws/nestjs/composite';
import { IO_CLOSE_EVENT, IO_SESSION_EVENT } from '@tracing-ws/nestjs/socket.io';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { waitFor } from '../../support/wait.js';
import { connect, upgrade } from '../../support/ws-client.js';

/**
 * ws gateways and socket.io gateways in one app, on one port, through
 * TracingCompositeAdapter: each keeps its transport's guard, lifecycle and
 * telemetry, and one upgrade router gives each upgrade to its owner, so that
 * neither platform destroys the other's (shown below without the composite).
 */
const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TRACE_ID = /^[0-9a-f]{32}$/;

@TracedGateway()
@WebSocketGateway({ path: '/ws', transport: 'ws' })
class WsEchoGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data: { data, transport: this.ws.connection?.transport, user: this.ws.user?.id, messageTraceId: this.ws.message?.traceId } };
  }
}

@TracedGateway()
@WebSocketGateway({ namespace: '/chat', transport: 'socket.io' })
class IoEchoGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { data, transport: this.ws.connection?.transport, user: this.ws.user?.id, messageTraceId: this.ws.message?.traceId };
  }
}

/** `slow-token` takes 1.5 s to check: longer than engine.io's 1 s `destroyUpgradeTimeout`. */
async function authenticate({ token }: WsAuthRequest) {
  if (token === 'slow-token') {
    await delay(1500);
    return { id: 'slow' };
  }
  return token === 'alice-token' ? { id: 'alice' } : null;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const sockets: Socket[] = [];

function ioClient(url: string, options: Parameters<typeof io>[1] = {}): Socket {
  const socket = io(`${url}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false, ...options });
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

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

interface Echoed {
  data: unknown;
  transport: string;
  user: string;
  messageTraceId: string;
}

describe('TracingCompositeAdapter: a ws gateway and a socket.io gateway on one port', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [WsEchoGateway, IoEchoGateway], tracing: { authenticate }, adapter: (app) => new TracingCompositeAdapter(app) });
  });
  afterAll(() => t.close());

  it('answers a real ws client and a real socket.io-client on the same port, each reply with its trace id, span and metrics', async () => {
    const ws = await connect(`${t.wsUrl}/ws`, bearer('alice-token'));
    expect(ws.upgradeHeaders['x-trace-id']).toMatch(TRACE_ID);
    ws.send('echo', 'over ws');
    const wsReply = await ws.next((f) => f.event === 'echo');
    const wsData = wsReply.data as Echoed;
    expect(wsData).toMatchObject({ data: 'over ws', transport: 'ws', user: 'alice' });
    expect(wsReply.meta?.traceId).toBe(wsData.messageTraceId);

    const socket = ioClient(t.httpUrl, { auth: { token: 'alice-token' } });
    const session = await once<{ traceId: string }>(socket, IO_SESSION_EVENT);
    expect(session.traceId).toMatch(TRACE_ID);
    const ioReply = (await socket.emitWithAck('echo', 'over socket.io')) as Echoed & { $meta: { traceId: string } };
    expect(ioReply).toMatchObject({ data: 'over socket.io', transport: 'socket.io', user: 'alice' });
    expect(ioReply.$meta.traceId).toBe(ioReply.messageTraceId);

    const wsSpan = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === wsData.messageTraceId);
    const ioSpan = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === ioReply.$meta.traceId);
    expect([wsSpan.kind, ioSpan.kind]).toEqual([SpanKind.CONSUMER, SpanKind.CONSUMER]);
    expect([wsSpan.attributes['messaging.system'], ioSpan.attributes['messaging.system']]).toEqual(['websocket', 'socket.io']);
    const text = await t.metrics();
    expect(metricValue(text, 'ws_connections_active', { path: '/ws', transport: 'ws' })).toBe(1);
    expect(metricValue(text, 'ws_connections_active', { path: '/chat', transport: 'socket.io' })).toBe(1);
    await ws.close();
  });

  it('lets a ws upgrade whose authenticate takes 1.5 s through (engine.io alone would end it after 1 s)', async () => {
    const started = Date.now();
    const ws = await connect(`${t.wsUrl}/ws`, bearer('slow-token'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    ws.send('echo', 'late');
    expect((await ws.next((f) => f.event === 'echo')).data).toMatchObject({ data: 'late', user: 'slow' });
    await ws.close();
  });

  it('serves socket.io-client on long-polling too, and its upgrade to websocket', async () => {
    const socket = ioClient(t.httpUrl, { auth: { token: 'alice-token' }, transports: ['polling', 'websocket'] });
    await once(socket, IO_SESSION_EVENT);
    await waitFor(() => socket.io.engine.transport.name === 'websocket', 5000, 'the upgrade from polling to websocket');
    expect(await socket.emitWithAck('echo', 1)).toMatchObject({ data: 1, transport: 'socket.io' });
  });

  it('refuses at once, with 404, an upgrade to a path nobody serves', async () => {
    const started = Date.now();
    const result = await upgrade(`${t.wsUrl}/nowhere`);
    expect(result.status).toBe(404);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("keeps each transport's handshake guard: 401 with X-Trace-ID on ws, connect_error with data on socket.io", async () => {
    const refused = await upgrade(`${t.wsUrl}/ws`, bearer('stolen-token'));
    expect(refused.status).toBe(401);
    expect(refused.headers['x-trace-id']).toMatch(TRACE_ID);
    const socket = ioClient(t.httpUrl, { auth: { token: 'stolen-token' } });
    const err = await once<Error & { data: { code: string; traceId: string } }>(socket, 'connect_error');
    expect(err.data).toMatchObject({ code: 'UNAUTHORIZED', traceId: expect.stringMatching(TRACE_ID) });
  });
});

describe('TracingCompositeAdapter: graceful shutdown', () => {
  it('closes both kinds of clients: the ws client gets 1001, the socket.io client tracing-ws:close 1001 and a closed transport', async () => {
    const t = await startApp({ gateways: [WsEchoGateway, IoEchoGateway], tracing: { authenticate }, adapter: (app) => new TracingCompositeAdapter(app) });
    const ws = await connect(`${t.wsUrl}/ws`, bearer('alice-token'));
    const socket = ioClient(t.httpUrl, { auth: { token: 'alice-token' } });
    await once(socket, IO_SESSION_EVENT);
    const notice = once<{ code: number }>(socket, IO_CLOSE_EVENT);
    const disconnected = once<string>(socket, 'disconnect');
    await t.close();
    expect(await ws.closed).toMatchObject({ code: 1001 });
    expect((await notice).code).toBe(1001);
    // "transport close", not "io server disconnect": socket.io-client would reconnect (to another instance).
    expect(await disconnected).toBe('transport close');
  });
});

describe('TracingCompositeAdapter: gateway options', () => {
  it('refuses at startup a ws gateway path that socket.io would also take', async () => {
    @WebSocketGateway({ path: '/socket.io/raw', transport: 'ws' })
    class ShadowGateway {}
    await expect(startApp({ gateways: [IoEchoGateway, ShadowGateway], adapter: (app) => new TracingCompositeAdapter(app) })).rejects.toThrow(/path "\/socket\.io\/(raw)?" overlaps the (ws|socket\.io) path "\/socket\.io\/(raw)?"/);
  });

  it('refuses at startup a ws gateway without a path (Nest would hand its server to a socket.io gateway without one)', async () => {
    @WebSocketGateway({ namespace: '/forgot' })
    class ForgotGateway {}
    await expect(startApp({ gateways: [ForgotGateway], adapter: (app) => new TracingCompositeAdapter(app) })).rejects.toThrow(/a ws gateway needs a `path`.*transport: 'socket.io'/);
  });

  it('refuses at startup a transport it does not know', async () => {
    @WebSocketGateway({ path: '/sse', transport: 'sse' })
    class UnknownGateway {}
    await expect(startApp({ gateways: [UnknownGateway], adapter: (app) => new TracingCompositeAdapter(app) })).rejects.toThrow(/unknown transport "sse".*'ws' or 'socket.io'/);
  });

  it("serves gateways that name no transport with the constructor's defaultTransport", async () => {
    @WebSocketGateway({ namespace: '/chat' })
    class PlainIoGateway {
      @SubscribeMessage('echo')
      echo(@MessageBody() data: unknown) {
        return { data };
      }
    }
    const t = await startApp({ gateways: [PlainIoGateway, WsEchoGateway], tracing: { authenticate }, adapter: (app) => new TracingCompositeAdapter(app, { defaultTransport: 'socket.io' }) });
    const socket = ioClient(t.httpUrl, { auth: { token: 'alice-token' } });
    await once(socket, IO_SESSION_EVENT);
    expect(await socket.emitWithAck('echo', 2)).toMatchObject({ data: 2 });
    const ws = await connect(`${t.wsUrl}/ws`, bearer('alice-token'));
    await ws.close();
    socket.close();
    await t.close();
  });
});

describe('without the composite: TracingWsAdapter and a socket.io server on one HTTP server', () => {
  let t: TestApp;
  let ioServer: Server;
  beforeAll(async () => {
    t = await startApp({ gateways: [WsEchoGateway], tracing: { authenticate }, adapter: (app) => new TracingWsAdapter(app) });
    ioServer = new Server(t.app.getHttpServer());
  });
  afterAll(async () => {
    await ioServer.close();
    await t.close();
  });

  it('loses a ws upgrade whose authenticate takes 1.5 s: engine.io ends it after 1 s', async () => {
    const started = Date.now();
    await expect(upgrade(`${t.wsUrl}/ws`, bearer('slow-token'))).rejects.toThrow();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(1400);
  });

  it("loses socket.io's websocket upgrades: platform-ws destroys a path it does not serve", async () => {
    const socket = io(t.httpUrl, { transports: ['websocket'], forceNew: true, reconnection: false });
    sockets.push(socket);
    await expect(once(socket, 'connect_error')).resolves.toBeDefined();
  });
});
