import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { TracingWsClient, WsClientError, type TracingWsClientOptions } from '@tracing-ws/client';
import { nextEvent, recordEvents } from './client-events.js';
import { FakeGateway } from './fake-gateway.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('TracingWsClient against a real ws server (Node global WebSocket)', () => {
  let gateway: FakeGateway;
  const clients: TracingWsClient[] = [];

  /** Fast, deterministic reconnects: base 20 ms, jitter source fixed at 0.5. */
  function client(options: Partial<TracingWsClientOptions> = {}): TracingWsClient {
    const c = new TracingWsClient({ url: gateway.url, token: 'alice-token', random: () => 0.5, reconnect: { baseMs: 20, capMs: 200, slowDownMs: 150 }, ...options });
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    gateway = await FakeGateway.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await gateway.close();
  });

  describe('handshake', () => {
    it('offers json plus the bearer subprotocol and carries the connection trace id in traceparent', async () => {
      const chat = client();
      const connecting = nextEvent(chat, 'connecting');
      const open = nextEvent(chat, 'open');
      await chat.connect();
      const server = await gateway.connection(1);
      expect(server.protocols).toEqual(['json', 'bearer.alice-token']);
      expect((await open).protocol).toBe('json');
      const traceparent = server.url.searchParams.get('traceparent') ?? '';
      expect(traceparent).toMatch(TRACEPARENT);
      expect(TRACEPARENT.exec(traceparent)![1]).toBe(chat.traceId);
      expect([...server.url.searchParams.keys()]).toEqual(['traceparent']);
      expect(await connecting).toMatchObject({ attempt: 0, traceId: chat.traceId });
      expect(chat.state).toBe('open');
    });

    it('puts a supplied trace id in traceId and the token in access_token only when asked to', async () => {
      const chat = client({ traceId: '123E4567-E89B-12D3-A456-426614174000', traceParam: 'traceId', tokenIn: 'query' });
      const connecting = nextEvent(chat, 'connecting');
      await chat.connect();
      const server = await gateway.connection(1);
      expect(server.url.searchParams.get('traceId')).toBe('123e4567e89b12d3a456426614174000');
      expect(server.url.searchParams.get('access_token')).toBe('alice-token');
      expect(server.protocols).toEqual(['json']);
      expect((await connecting).url).toContain('access_token=[redacted]');
    });

    it('rejects a supplied trace id the server would not accept', () => {
      expect(() => client({ traceId: 'user-123' })).toThrow('traceId must be 32 hex characters');
    });
  });

  describe('messages', () => {
    it('sends meta.id and a traceparent with a new trace per message', async () => {
      const chat = client();
      await chat.connect();
      const first = chat.send('echo', { n: 1 });
      const second = chat.send('echo', { n: 2 });
      await gateway.frame((f) => f.meta?.id === second.id);
      const frames = (await gateway.connection(1)).frames;
      expect(frames.map((f) => f.meta?.id)).toEqual([first.id, second.id]);
      expect(frames[0]!.meta?.traceparent).toBe(first.traceparent);
      expect(TRACEPARENT.exec(first.traceparent)![1]).toBe(first.traceId);
      expect(first.traceId).not.toBe(second.traceId);
      expect(first.traceId).not.toBe(chat.traceId);
    });

    it('keeps the connection trace with a new span per message in connection mode', async () => {
      const chat = client({ messageTrace: 'connection' });
      await chat.connect();
      const a = chat.send('echo', 1);
      const b = chat.send('echo', 2);
      expect([a.traceId, b.traceId]).toEqual([chat.traceId, chat.traceId]);
      expect(TRACEPARENT.exec(a.traceparent)![2]).not.toBe(TRACEPARENT.exec(b.traceparent)![2]);
    });

    it('resolves a request with the reply that echoes its id, with the server trace id', async () => {
      const chat = client();
      await chat.connect();
      const [one, two] = await Promise.all([chat.request<{ n: number }>('echo', { n: 1 }), chat.request<{ n: number }>('echo', { n: 2 })]);
      expect(one.data).toEqual({ n: 1 });
      expect(two.data).toEqual({ n: 2 });
      expect(one.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(one.traceId).not.toBe(two.traceId);
    });

    it('rejects a request with the error frame mapped to a user-facing text and the trace id', async () => {
      const chat = client();
      await chat.connect();
      const error = await chat.request('fail', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WsClientError);
      const e = error as WsClientError;
      expect(e).toMatchObject({ code: 'RATE_LIMITED', message: 'Too many messages', retryable: true, event: 'fail' });
      expect(e.userMessage).toBe('You are going a bit fast. Please wait a moment and try again.');
      expect(e.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(e.supportText).toBe(`Quote this id to support: ${e.traceId}`);
    });

    it('rejects a request that gets no reply with TIMEOUT, keeping its trace id', async () => {
      const chat = client();
      await chat.connect();
      const error = (await chat.request('ignore', {}, { timeoutMs: 50 }).catch((e: unknown) => e)) as WsClientError;
      expect(error.code).toBe('TIMEOUT');
      expect(error.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(error.userMessage).toBe('The server did not answer in time. Please try again.');
    });

    it('refuses to send while not connected', async () => {
      const chat = client();
      expect(() => chat.send('echo')).toThrow(WsClientError);
      await expect(chat.request('echo')).rejects.toMatchObject({ code: 'NOT_CONNECTED' });
    });

    it('delivers server pushes to subscribers and unsolicited error frames as error events', async () => {
      const chat = client();
      await chat.connect();
      const server = await gateway.connection(1);
      const got = new Promise((resolve) => chat.subscribe('message', (data) => resolve(data)));
      const error = nextEvent(chat, 'error');
      server.socket.send(JSON.stringify({ event: 'message', data: { text: 'hi' }, meta: { traceId: 'a'.repeat(32) } }));
      server.socket.send(JSON.stringify({ event: 'error', data: { code: 'INTERNAL', message: 'Internal server error', traceId: 'b'.repeat(32), retryable: false } }));
      expect(await got).toEqual({ text: 'hi' });
      expect(await error).toMatchObject({ code: 'INTERNAL', traceId: 'b'.repeat(32), userMessage: 'Something went wrong on our side.' });
    });
  });

  describe('reconnects', () => {
    it('after 1001 with jittered backoff, with a new trace id, and joins its rooms again', async () => {
      const chat = client();
      await chat.connect();
      await chat.join('lobby');
      const firstTrace = chat.traceId;
      const pending = chat.request('ignore', {});
      const reconnecting = nextEvent(chat, 'reconnecting');
      const rejoined = nextEvent(chat, 'rejoined');
      (await gateway.connection(1)).socket.close(1001, 'server shutting down');
      expect(await reconnecting).toMatchObject({ attempt: 1, delayMs: 10, code: 1001, reason: 'server shutting down', message: 'The server is restarting.', wasOpen: true });
      await expect(pending).rejects.toMatchObject({ code: 'DISCONNECTED', retryable: true });
      expect(await rejoined).toMatchObject({ room: 'lobby', reply: { event: 'joined', data: { room: 'lobby' } } });
      const second = await gateway.connection(2);
      // First what the client saw while away (the library's report), then the rooms again.
      expect(second.frames[0]).toMatchObject({ event: 'tracing-ws:report', data: { attempts: 0, closeCodes: [1001] } });
      expect(second.frames[1]).toMatchObject({ event: 'join', data: { room: 'lobby' } });
      expect(chat.traceId).not.toBe(firstTrace);
      expect(chat.state).toBe('open');
      expect((await chat.request('echo', 'still works')).data).toBe('still works');
    });

    it('after 1006 (socket dropped without a close frame)', async () => {
      const chat = client();
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      const open = nextEvent(chat, 'open');
      (await gateway.connection(1)).socket.terminate();
      expect(await reconnecting).toMatchObject({ code: 1006, attempt: 1, message: 'Could not reach the server.' });
      expect((await open).attempt).toBe(1);
    });

    it.each([1011, 4408])('after %i', async (code) => {
      const chat = client();
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      (await gateway.connection(1)).socket.close(code);
      expect((await reconnecting).code).toBe(code);
      await nextEvent(chat, 'open');
    });

    it.each([1013, 4429])('after %i only once the slow-down floor has passed', async (code) => {
      const chat = client();
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      (await gateway.connection(1)).socket.close(code);
      expect(await reconnecting).toMatchObject({ code, delayMs: 150 });
      await nextEvent(chat, 'open');
    });

    it('backs off further while the server stays down and gives up after maxAttempts', async () => {
      const chat = client({ reconnect: { baseMs: 20, capMs: 200, maxAttempts: 3 } });
      await chat.connect();
      const log = recordEvents(chat);
      const closed = nextEvent(chat, 'closed');
      await gateway.close();
      expect(await closed).toMatchObject({ gaveUp: true, code: 1006, wasOpen: false });
      const delays = log.filter(([t]) => t === 'reconnecting').map(([, e]) => (e as { attempt: number; delayMs: number }).delayMs);
      expect(delays).toEqual([10, 20, 40]);
      expect(chat.state).toBe('closed');
    });

    it('retries a refused handshake when the server has no check endpoint to say why (a browser cannot tell a 401 from a network error)', async () => {
      gateway.tokens = new Set(['bob-token']);
      const chat = client({ reconnect: { baseMs: 20, capMs: 200, maxAttempts: 1 } });
      const reconnecting = nextEvent(chat, 'reconnecting');
      const failed = chat.connect().catch((e: unknown) => e);
      expect(await reconnecting).toMatchObject({ code: 1006, wasOpen: false });
      expect(await failed).toMatchObject({ code: 'CLOSE_1006', userMessage: 'Could not reach the server.' });
    });

    it('reconnects at once when the reconnect is forced ("retry now")', async () => {
      const chat = client({ reconnect: { baseMs: 60000, capMs: 60000 }, random: () => 1 });
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      (await gateway.connection(1)).socket.close(1001);
      expect((await reconnecting).delayMs).toBe(60000);
      const open = nextEvent(chat, 'open', () => true, 2000);
      chat.reconnectNow();
      await open;
    });
  });

  describe('stops', () => {
    it.each([
      [1000, 'Disconnected.'],
      [4403, 'You are not allowed to use this connection.'],
    ])('after %i, with a user-facing message', async (code, message) => {
      const chat = client();
      await chat.connect();
      const log = recordEvents(chat);
      const closed = nextEvent(chat, 'closed');
      (await gateway.connection(1)).socket.close(code, 'bye');
      expect(await closed).toMatchObject({ code, reason: 'bye', message, gaveUp: false, wasOpen: true });
      expect(log.map(([t]) => t)).toEqual(['closed']);
      expect(chat.state).toBe('closed');
    });

    it('after 4401 without a re-authenticate hook', async () => {
      const chat = client();
      await chat.connect();
      const closed = nextEvent(chat, 'closed');
      (await gateway.connection(1)).socket.close(4401, 'token expired');
      expect(await closed).toMatchObject({ code: 4401, message: 'Your session has expired. Please sign in again.' });
    });

    it('when the app closes it, and never reconnects', async () => {
      const chat = client();
      await chat.connect();
      const closed = nextEvent(chat, 'closed');
      chat.close();
      expect(await closed).toMatchObject({ code: 1000, gaveUp: false });
      expect(gateway.connections).toHaveLength(1);
    });
  });

  it('re-authenticates on 4401 through the hook and reconnects with the new token', async () => {
    gateway.tokens = new Set(['alice-token', 'alice-token-2']);
    const calls: Array<{ code: number; reason: string }> = [];
    const chat = client({
      reauthenticate: async (close) => {
        calls.push(close);
        return 'alice-token-2';
      },
    });
    await chat.connect();
    const open = nextEvent(chat, 'open');
    (await gateway.connection(1)).socket.close(4401, 'token expired');
    await open;
    expect(calls).toEqual([{ code: 4401, reason: 'token expired' }]);
    expect((await gateway.connection(2)).protocols).toEqual(['json', 'bearer.alice-token-2']);
  });

  it('detects a dead connection from missed server activity and reconnects', async () => {
    const chat = client({ heartbeat: { intervalMs: 60, timeoutMs: 60, pingEvent: 'echo', pingData: 'ping' } });
    await chat.connect();
    // Alive: the ping is answered, the connection stays.
    await gateway.frame((f) => f.event === 'echo' && f.data === 'ping');
    gateway.mute = true;
    const reconnecting = nextEvent(chat, 'reconnecting');
    expect(await reconnecting).toMatchObject({ code: 4408, reason: 'no server activity', wasOpen: true });
    gateway.mute = false;
    await nextEvent(chat, 'open');
    expect(gateway.connections.length).toBeGreaterThanOrEqual(2);
    expect((await chat.request('echo', 'back')).data).toBe('back');
  });
});
