import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracingWsClient, WsClientError, type TracingWsClientOptions, type WsClientEvents } from '@tracing-ws/client';
import { TracedGateway, type WsAuthRequest } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { freePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { nextEvent, recordEvents } from './client-events.js';
import { withoutForeignUndiciSubscribers } from './undici-isolation.js';

// The real client against the real library: a refused handshake is told apart
// from an outage through the server's check endpoint (GET <path>/.tracing-ws/check).

@TracedGateway()
@WebSocketGateway({ path: '/chat' })
class ChatGateway {
  @SubscribeMessage('echo')
  echo(_socket: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

const authenticate = ({ token }: WsAuthRequest) => (token === 'alice-token' ? { id: 'alice' } : null);

// Upgrades and checks as a browser sends them (see undici-isolation.ts).
let restoreUndici: () => void;
beforeAll(() => {
  restoreUndici = withoutForeignUndiciSubscribers();
});
afterAll(() => restoreUndici());

const clients: TracingWsClient[] = [];
function clientOf(url: string, options: Partial<TracingWsClientOptions> = {}): TracingWsClient {
  const client = new TracingWsClient({ url, token: 'alice-token', random: () => 0.5, reconnect: { baseMs: 50, capMs: 400 }, ...options });
  clients.push(client);
  return client;
}
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe('a refused handshake, through the check endpoint', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    t = await startApp({ gateways: [ChatGateway], tracing: { requireAuth: true, authenticate } });
    url = `${t.wsUrl}/chat`;
  });
  afterAll(() => t.close());

  const rejections = async () => metricValue(await t.metrics(), 'ws_handshake_rejections_total', { path: '/chat', reason: 'invalid_credentials' });

  it('stops at the first refusal of an unknown token and says so, with the trace id of the refusal line', async () => {
    const before = await rejections();
    const chat = clientOf(url, { token: 'wrong-token' });
    const events = recordEvents(chat);
    const closed = nextEvent(chat, 'closed');
    const error = (await chat.connect().catch((e: unknown) => e)) as WsClientError;
    const e = await closed;
    expect(e).toMatchObject({ code: 1006, wasOpen: false, gaveUp: false, message: 'The server refused your token. Please sign in again.' });
    expect(e.refusal).toEqual({ status: 401, reason: 'invalid_credentials', traceId: chat.traceId });
    expect(error).toBeInstanceOf(WsClientError);
    expect(error).toMatchObject({ code: 'REFUSED', userMessage: e.message, traceId: chat.traceId, retryable: false, supportText: `Quote this id to support: ${chat.traceId}` });
    expect(chat.state).toBe('closed');
    expect(events.filter(([type]) => type === 'reconnecting')).toEqual([]);
    // The upgrade's refusal and one check, all under the attempt's trace id. (Node's
    // WebSocket, undici, sends a refused upgrade once more itself on a 401; browsers do not.)
    const lines = logs.find({ msg: 'ws.handshake_rejected', trace_id: chat.traceId });
    const upgrades = lines.filter((l) => l.handshake_check === undefined);
    expect(upgrades.length).toBeGreaterThanOrEqual(1);
    expect(upgrades.length).toBeLessThanOrEqual(2);
    expect(lines.filter((l) => l.handshake_check === true)).toHaveLength(1);
    expect(lines.every((l) => l.reason === 'invalid_credentials')).toBe(true);
    expect(await rejections()).toBe(before + lines.length);
  });

  it('reports the refusal with reconnects off too', async () => {
    const chat = clientOf(url, { token: 'wrong-token', reconnect: false });
    const closed = nextEvent(chat, 'closed');
    chat.connect().catch(() => undefined);
    expect((await closed).refusal).toMatchObject({ status: 401 });
  });

  it('keeps the old behaviour with handshakeCheck: false (close 1006, backoff)', async () => {
    const chat = clientOf(url, { token: 'wrong-token', handshakeCheck: false, reconnect: { baseMs: 50, capMs: 400, maxAttempts: 1 } });
    const closed = nextEvent(chat, 'closed');
    chat.connect().catch(() => undefined);
    expect(await closed).toMatchObject({ gaveUp: true, message: 'Could not reach the server.' });
    expect((await closed).refusal).toBeUndefined();
  });

  it('connects with a good token without any check', async () => {
    const chat = clientOf(url);
    const checks = () => logs.lines.filter((l) => typeof l.req === 'object' && String((l.req as { url?: string }).url).includes('/.tracing-ws/check')).length;
    const before = checks();
    await chat.connect();
    expect((await chat.request('echo', 'hi')).data).toBe('hi');
    expect(checks()).toBe(before);
  });
});

describe('a busy server, through the check endpoint', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ChatGateway], tracing: { authenticate, maxConnections: 1 } });
  });
  afterAll(() => t.close());

  it('keeps backing off while the server is full (503), and connects once a slot is free', async () => {
    const first = clientOf(`${t.wsUrl}/chat`);
    await first.connect();
    const second = clientOf(`${t.wsUrl}/chat`);
    const events = recordEvents(second);
    second.connect().catch(() => undefined);
    await waitFor(() => events.filter(([type]) => type === 'reconnecting').length >= 2, 5000, 'two retries of the second client');
    expect(second.state).not.toBe('closed');
    await logs.waitFor({ msg: 'ws.handshake_rejected', reason: 'connection_limit', handshake_check: true });
    first.close();
    await nextEvent(second, 'open', undefined, 5000);
  });
});

describe('a server that is down', () => {
  it('is retried at least 3 times with growing delays (the failed check changes nothing)', async () => {
    const port = await freePort(); // nothing listens on it
    // Jitter at its top, so that each delay is its window's ceiling: 99, 199, 399 ms.
    const chat = clientOf(`ws://127.0.0.1:${port}/chat`, { random: () => 0.99, reconnect: { baseMs: 100, capMs: 5000 } });
    const attempts: Array<{ at: number; attempt: number }> = [];
    const retries: Array<WsClientEvents['reconnecting']> = [];
    chat.on('connecting', (e) => attempts.push({ at: performance.now(), attempt: e.attempt }));
    chat.on('reconnecting', (e) => retries.push(e));
    chat.connect().catch(() => undefined);
    await waitFor(() => attempts.length >= 4, 10000, 'four attempts');
    chat.close();
    expect(attempts.map((a) => a.attempt).slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(retries.slice(0, 3).map((r) => [r.code, r.wasOpen, r.delayMs])).toEqual([
      [1006, false, 99],
      [1006, false, 198],
      [1006, false, 396],
    ]);
    const gaps = attempts.slice(1, 4).map((a, i) => a.at - attempts[i]!.at);
    expect(gaps[0]!).toBeGreaterThanOrEqual(95);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
    expect(chat.state).toBe('closed');
  });
});
