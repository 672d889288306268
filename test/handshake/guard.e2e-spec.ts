import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, type WsAuthRequest } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { connect, upgrade } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/ws' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

const TOKENS: Record<string, string> = { 'alice-token': 'alice' };
const authenticate = ({ token }: WsAuthRequest) => {
  if (token === 'boom-token') throw new Error('db password=hunter2 unreachable');
  return TOKENS[token] ? { id: TOKENS[token]! } : null;
};

describe('handshake guard (before the 101)', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startApp({
      gateways: [EchoGateway],
      tracing: { allowedOrigins: ['https://app.example.com'], requireAuth: true, authenticate },
    });
    url = `${t.wsUrl}/ws`;
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  const ok = { origin: 'https://app.example.com' };
  const bearer = { ...ok, headers: { authorization: 'Bearer alice-token' } };

  it('lets in a request without Origin (a native app, a server, wscat) while the allow-list is set', async () => {
    const res = await upgrade(url, { headers: { authorization: 'Bearer alice-token' } });
    expect(res.status).toBe(101);
    res.socket?.close();
  });

  it('refuses a request without Origin with 403 when allowMissingOrigin is off', async () => {
    const strict = await startApp({ gateways: [EchoGateway], tracing: { allowedOrigins: ['https://app.example.com'], allowMissingOrigin: false, requireAuth: true, authenticate } });
    try {
      const res = await upgrade(`${strict.wsUrl}/ws`, { headers: { authorization: 'Bearer alice-token' } });
      expect(res.status).toBe(403);
      expect((await upgrade(`${strict.wsUrl}/ws`, { origin: 'https://app.example.com', headers: { authorization: 'Bearer alice-token' } })).status).toBe(101);
    } finally {
      await strict.close();
    }
  });

  it('rejects an upgrade from a disallowed origin with 403', async () => {
    const res = await upgrade(url, { origin: 'https://evil.example.com', headers: { authorization: 'Bearer alice-token' } });
    expect(res.status).toBe(403);
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', reason: 'origin_not_allowed' });
    expect(line.status).toBe(403);
  });

  it('rejects an upgrade without a token with 401', async () => {
    const res = await upgrade(url, ok);
    expect(res.status).toBe(401);
  });

  it('rejects an unknown token with 401', async () => {
    const res = await upgrade(url, { ...ok, headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
  });

  it.each([
    ['the Authorization header', { ...bearer }, ''],
    ['the access_token query parameter', { ...ok }, '?access_token=alice-token'],
    ['a bearer.<token> subprotocol', { ...ok, protocols: ['json', 'bearer.alice-token'] }, ''],
  ])('accepts a token in %s with 101', async (_how, options, query) => {
    const socket = await connect(url + query, options);
    try {
      expect(socket.ws.protocol).toBe('protocols' in options ? 'json' : '');
      const reply = await socket.request('echo', { hi: 1 });
      expect(reply.data).toEqual({ hi: 1 });
      const connected = await logs.waitFor({ msg: 'ws.connected', connection_trace_id: socket.upgradeHeaders['x-trace-id'] });
      expect(connected.user_id).toBe('alice');
    } finally {
      await socket.close();
    }
  });

  it('echoes a supplied X-Trace-ID on the 101', async () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await upgrade(url, { ...ok, headers: { ...bearer.headers, 'x-trace-id': id } });
    expect(res.status).toBe(101);
    expect(res.headers['x-trace-id']).toBe(id);
    res.socket!.close();
  });

  it('normalises a UUID trace id to 32 lowercase hex', async () => {
    const res = await upgrade(`${url}?traceId=123E4567-E89B-12D3-A456-426614174000`, bearer);
    expect(res.headers['x-trace-id']).toBe('123e4567e89b12d3a456426614174000');
    res.socket!.close();
  });

  it('continues a traceparent header: the 101 carries its trace id and the handshake span is its child', async () => {
    const res = await upgrade(url, { ...ok, headers: { ...bearer.headers, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    expect(res.headers['x-trace-id']).toBe('0af7651916cd43dd8448eb211c80319c');
    const span = await telemetry.waitForSpan((s) => s.name === 'GET /ws' && s.spanContext().traceId === '0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span.attributes['http.response.status_code']).toBe(101);
    res.socket!.close();
  });

  it('generates a trace id when none is supplied', async () => {
    const a = await upgrade(url, bearer);
    const b = await upgrade(url, bearer);
    expect(a.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(b.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(a.headers['x-trace-id']).not.toBe(b.headers['x-trace-id']);
    a.socket!.close();
    b.socket!.close();
  });

  it.each([
    ['a newline', 'abc\r\nSet-Cookie: pwned=1'],
    ['1 KB of junk', `zz${'<script>'.repeat(128)}`],
    ['an all-zero id', '00000000000000000000000000000000'],
  ])('never echoes an invalid X-Trace-ID (%s): a generated id replaces it', async (_what, junk) => {
    const res = await upgrade(url, { ...ok, headers: { ...bearer.headers, 'x-trace-id': junk.replace(/[\r\n]/g, ' ') } });
    expect(res.status).toBe(101);
    const traceId = res.headers['x-trace-id'] as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(traceId).not.toBe(junk);
    expect(JSON.stringify(res.headers)).not.toContain('script');
    expect(logs.raw.some((l) => l.includes('<script>') || l.includes('pwned'))).toBe(false);
    res.socket!.close();
  });

  it('never echoes junk from the query string either', async () => {
    const junk = encodeURIComponent('x\r\nSet-Cookie: a=b');
    const res = await upgrade(`${url}?traceId=${junk}&traceparent=${junk}`, bearer);
    expect(res.headers['x-trace-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers['set-cookie']).toBeUndefined();
    res.socket!.close();
  });

  it('refuses an offer of only a bearer.<token> subprotocol with 400 saying what to offer, before the hook and without a connection', async () => {
    const before = metricValue(await t.metrics(), 'ws_connections_opened_total', { path: '/ws' });
    const res = await upgrade(url, { ...ok, protocols: ['bearer.alice-token'] });
    expect(res.status).toBe(400);
    expect(res.body).toContain('json');
    expect(res.body).not.toContain('alice-token');
    expect(JSON.stringify(res.headers)).not.toContain('alice-token');
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', reason: 'bearer_only_subprotocol', trace_id: res.headers['x-trace-id'] });
    expect(line.status).toBe(400);
    expect(metricValue(await t.metrics(), 'ws_connections_opened_total', { path: '/ws' })).toBe(before);
  });

  it('refuses with 500 without leaking the text when the authenticate hook throws', async () => {
    const res = await upgrade(url, { ...ok, headers: { authorization: 'Bearer boom-token' } });
    expect(res.status).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(JSON.stringify(res.headers)).not.toContain('hunter2');
    await logs.waitFor({ msg: 'ws.handshake_rejected', reason: 'auth_error' });
    // The server-side log keeps the error for operators.
    expect(logs.find({ msg: 'ws.auth_hook_failed' })).toHaveLength(1);
  });

  it('never logs the token', () => {
    expect(logs.raw.length).toBeGreaterThan(10);
    expect(logs.raw.some((l) => l.includes('alice-token') || l.includes('boom-token'))).toBe(false);
  });
});
