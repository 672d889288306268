import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { WsClientError } from '@tracing-ws/client';
import * as clientWire from '@tracing-ws/client/socket.io';
import { IoRefusalError, TracingIoClient, type IoClientEvents, type TracingIoClientOptions } from '@tracing-ws/client/socket.io';
import { TracedGateway, WsBroadcaster, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import * as serverWire from '@tracing-ws/nestjs/socket.io';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import type { Socket } from 'socket.io';
import { logs, startApp, type TestApp } from '../support/app.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoClients } from '../support/io-client.js';
import { TestTelemetry } from '../support/otel.js';

// The socket.io helper of @tracing-ws/client (TracingIoClient) on the official
// socket.io-client, against the real library in a listening Nest app served by
// TracingIoAdapter: what the server really sends is what the helper understands.

const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

const TRACE_ID = /^[0-9a-f]{32}$/;
const MESSAGE_TRACE = '0af7651916cd43dd8448eb211c80319c';

function authenticate({ token }: WsAuthRequest) {
  if (token === 'alice-token') return { id: 'alice' };
  if (token === 'bob-token') return { id: 'bob' };
  if (token === 'brief-token') return { id: 'brief', expiresAt: Date.now() + 400 };
  return null;
}

@TracedGateway()
@WebSocketGateway({ namespace: '/chat' })
class HelperGateway {
  constructor(
    private readonly ws: WsContextService,
    private readonly rooms: WsBroadcaster,
  ) {}

  @SubscribeMessage('whoami')
  whoami() {
    return { user: this.ws.user?.id, connectionTraceId: this.ws.connection?.traceId };
  }

  @SubscribeMessage('count')
  count() {
    return 42;
  }

  @SubscribeMessage('say')
  say(socket: Socket, data: { room: string; text: string }) {
    this.rooms.join(socket, data.room);
    return { delivered: this.rooms.toRoom(data.room).emit('said', { text: data.text, by: this.ws.user?.id }) };
  }

  @SubscribeMessage('join')
  join(socket: Socket, data: { room: string }) {
    this.rooms.join(socket, data.room);
    return { room: data.room };
  }

  @SubscribeMessage('refuse')
  refuse() {
    throw new WsException('join the room first');
  }

  @SubscribeMessage('explode')
  explode() {
    throw new Error('db password=hunter2 unreachable');
  }

  @SubscribeMessage('slow')
  async slow() {
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { done: true };
  }
}

/** The next `type` event of a helper. */
function next<K extends keyof IoClientEvents>(client: TracingIoClient, type: K, timeoutMs = 5000): Promise<IoClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${String(type)}" within ${timeoutMs} ms`)), timeoutMs);
    const stop = client.on(type, (payload) => {
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}

describe('TracingIoClient against a TracingIoAdapter app', () => {
  let t: TestApp;
  const sockets = new IoClients();

  function helper(token: string | undefined, options: TracingIoClientOptions = {}, socketOptions: Parameters<IoClients['open']>[1] = {}): TracingIoClient {
    return new TracingIoClient(sockets.open(`${t.httpUrl}/chat`, { auth: token === undefined ? {} : { token }, ...socketOptions }), options);
  }

  beforeAll(async () => {
    t = await startApp({ gateways: [HelperGateway], tracing: { authenticate }, adapter: (app) => new TracingIoAdapter(app) });
  });
  afterEach(() => sockets.closeAll());
  afterAll(() => t.close());

  it("reads the server's wire names: the helper's constants are the library's", () => {
    for (const name of ['IO_META_KEY', 'IO_SESSION_EVENT', 'IO_CLOSE_EVENT', 'IO_EXCEPTION_EVENT'] as const) expect(clientWire[name]).toBe(serverWire[name]);
  });

  it('sends a fresh traceparent with every connection and exposes the session trace id the server logs', async () => {
    const chat = helper('alice-token');
    const first = await chat.connect();
    expect(first.traceId).toMatch(TRACE_ID);
    expect(chat.traceId).toBe(first.traceId);
    expect(chat.connectionId).toBe(first.connectionId);
    // The handshake continued the client's traceparent: its span has a remote parent.
    const span = await telemetry.waitForSpan((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === first.traceId);
    expect(span.parentSpanContext?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(await logs.waitFor({ msg: 'ws.connected', trace_id: first.traceId })).toMatchObject({ user_id: 'alice', transport: 'socket.io' });

    chat.close();
    const second = await chat.connect();
    expect(second.traceId).not.toBe(first.traceId);
    expect(chat.traceId).toBe(second.traceId);
    expect((await chat.request<{ connectionTraceId: string }>('whoami')).data.connectionTraceId).toBe(second.traceId);
  });

  it('resolves a request with the acknowledgement read into {data, traceId}: a new trace per message, continued by the server', async () => {
    const chat = helper('alice-token');
    await chat.connect();
    const me = await chat.request<{ user: string }>('whoami');
    expect(me.data).toEqual({ user: 'alice', connectionTraceId: chat.traceId });
    expect(me.traceId).toMatch(TRACE_ID);
    expect(me.traceId).not.toBe(chat.traceId);
    expect(me.meta).toEqual({ traceId: me.traceId, id: me.id });
    expect(await logs.waitFor({ msg: 'ws.message_handled', trace_id: me.traceId })).toMatchObject({ event: 'whoami', outcome: 'ok', connection_trace_id: chat.traceId });

    const count = await chat.request<number>('count', undefined, { traceId: MESSAGE_TRACE });
    expect([count.data, count.traceId]).toEqual([42, MESSAGE_TRACE]);
  });

  it('rejects a failed request with the WsClientError of the server error, texts by the client rule, the trace id to quote', async () => {
    const chat = helper('alice-token');
    await chat.connect();
    const refused = await chat.request('refuse').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WsClientError);
    expect(refused).toMatchObject({ code: 'BAD_REQUEST', message: 'join the room first', userMessage: 'That request was not accepted: join the room first', retryable: false, event: 'refuse' });
    const internal = (await chat.request('explode').catch((err: unknown) => err)) as WsClientError;
    expect(internal).toMatchObject({ code: 'INTERNAL', userMessage: 'Something went wrong on our side.' });
    expect(internal.supportText).toBe(`Quote this id to support: ${internal.traceId}`);
    expect(await logs.waitFor({ msg: 'ws.message_failed', trace_id: internal.traceId })).toMatchObject({ error_code: 'INTERNAL', event: 'explode' });
    expect(JSON.stringify(internal)).not.toContain('hunter2');
    await expect(chat.request('no-such-event')).rejects.toMatchObject({ code: 'UNKNOWN_EVENT' });
  });

  it('rejects with TIMEOUT under the trace id the server logs the late message with', async () => {
    const chat = helper('alice-token');
    await chat.connect();
    const late = (await chat.request('slow', undefined, { timeoutMs: 100 }).catch((err: unknown) => err)) as WsClientError;
    expect(late).toMatchObject({ code: 'TIMEOUT', retryable: true, event: 'slow', traceId: expect.stringMatching(TRACE_ID) });
    expect(await logs.waitFor({ msg: 'ws.message_handled', trace_id: late.traceId })).toMatchObject({ event: 'slow', outcome: 'ok' });
  });

  it('reports an exception event (a failed message sent without acknowledgement) as an error event', async () => {
    const chat = helper('alice-token');
    await chat.connect();
    const error = next(chat, 'error');
    const sent = chat.send('refuse', { why: 'no ack' });
    expect(await error).toMatchObject({ code: 'BAD_REQUEST', userMessage: 'That request was not accepted: join the room first', traceId: sent.traceId });
  });

  it("hands a subscriber a broadcast's data and the server's trace id, apart", async () => {
    const alice = helper('alice-token');
    const bob = helper('bob-token');
    await Promise.all([alice.connect(), bob.connect()]);
    await bob.request('join', { room: 'helper-room' });
    const heard = new Promise<[unknown, unknown]>((resolve) => {
      const stop = bob.subscribe('said', (data, meta) => {
        stop();
        resolve([data, meta]);
      });
    });
    const sent = await alice.request<{ delivered: number }>('say', { room: 'helper-room', text: 'hello bob' });
    expect(sent.data.delivered).toBe(2);
    expect(await heard).toEqual([{ text: 'hello bob', by: 'alice' }, { traceId: sent.traceId }]);
  });

  it('turns a refused token into an IoRefusalError (connect rejects, refused event); the socket stays down and sending says NOT_CONNECTED', async () => {
    const chat = helper('stolen-token', { messages: { 'refused.401': 'Token refused, sign in again.' } });
    const event = next(chat, 'refused');
    const err = (await chat.connect().catch((e: unknown) => e)) as IoRefusalError;
    expect(err).toBeInstanceOf(IoRefusalError);
    expect(err).toBeInstanceOf(WsClientError);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED', status: 401, retryable: false, userMessage: 'Token refused, sign in again.' });
    expect(err.traceId).toMatch(TRACE_ID);
    expect(await event).toBe(err);
    expect(await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: err.traceId })).toMatchObject({ reason: 'invalid_credentials', transport: 'socket.io' });
    expect(chat.socket.active).toBe(false);
    await expect(chat.request('whoami')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    expect(() => chat.send('whoami')).toThrow(WsClientError);
  });

  it("says why the server closes a connection: an expired credential is not reconnected, the client's text says so", async () => {
    const chat = helper('brief-token');
    await chat.connect();
    const closing = await next(chat, 'closing');
    expect(closing).toEqual({ code: 4401, reason: expect.any(String), message: 'Your session has expired. Please sign in again.', reconnects: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(chat.socket.connected).toBe(false);
    expect(chat.socket.active).toBe(false);
  });

  it('rejects a pending request with DISCONNECTED when the connection drops first', async () => {
    const chat = helper('alice-token', {}, { reconnection: false });
    await chat.connect();
    const pending = chat.request('slow', undefined, { timeoutMs: 5000 });
    // The transport goes away under the socket (as when a network drops it).
    chat.socket.io.engine.close();
    await expect(pending).rejects.toMatchObject({ code: 'DISCONNECTED', event: 'slow', retryable: true });
  });
});

describe('TracingIoClient during a graceful shutdown', () => {
  it('tells the page the server is going away and that socket.io-client comes back by itself', async () => {
    const t = await startApp({ gateways: [HelperGateway], tracing: { authenticate }, adapter: (app) => new TracingIoAdapter(app) });
    const sockets = new IoClients();
    try {
      const chat = new TracingIoClient(sockets.open(`${t.httpUrl}/chat`, { auth: { token: 'alice-token' } }));
      await chat.connect();
      const closing = next(chat, 'closing');
      await t.close();
      expect(await closing).toEqual({ code: 1001, reason: 'Server shutting down', message: 'The server is restarting.', reconnects: true });
      expect(chat.socket.active).toBe(true);
    } finally {
      sockets.closeAll();
    }
  });
});

describe('the socket.io entry of @tracing-ws/client', () => {
  const SRC = join(import.meta.dirname, '..', '..', 'libs', 'tracing-ws-client', 'src');
  const sources = (dir: string): string[] =>
    readdirSync(join(SRC, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : []));

  it('is never loaded by the ws client, and loads socket.io-client for types only', () => {
    const files = sources('.');
    expect(files).toContain(join('socket.io', 'index.ts'));
    for (const file of files) {
      const text = readFileSync(join(SRC, file), 'utf8');
      const imports = [...text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)].map((m) => ({ typeOnly: Boolean(m[2]), from: m[3]! }));
      if (!file.startsWith('socket.io')) expect(imports.filter((i) => i.from.includes('socket.io'))).toEqual([]);
      expect(imports.filter((i) => i.from === 'socket.io-client' && !i.typeOnly)).toEqual([]);
    }
  });
});
