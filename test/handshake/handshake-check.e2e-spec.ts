import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, TracingWsAdapter, TracingWsModule, type WsAuthRequest } from '@tracing-ws/nestjs';
import type { AddressInfo } from 'node:net';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { connect, upgrade } from '../support/ws-client.js';

// The handshake check endpoint, GET <gateway path>/.tracing-ws/check: what a
// browser asks after an upgrade that closed before opening (it cannot read the
// refused upgrade's status), answered by the guard's own checks without a connection.

@TracedGateway()
@WebSocketGateway({ path: '/ws' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

/** An application route under the gateway's path: the endpoint must leave it alone. */
@Controller('ws')
class NeighbourController {
  @Get('status')
  status() {
    return { app: 'own route' };
  }
}

const SECRET = 'alice-secret-token';
/** Sent in the URL: pino-http's request line shows it unless the app redacts URLs (the sample does). */
const QUERY_SECRET = 'alice-query-token';
const calls: string[] = [];
const authenticate = ({ token }: WsAuthRequest) => {
  calls.push(token);
  if (token === 'boom-token') throw new Error('db password=hunter2 unreachable');
  return token === SECRET || token === QUERY_SECRET ? { id: 'alice' } : null;
};

interface CheckAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: { status: number; reason: string | null; traceId: string | null } | undefined;
}

/** One HTTP request through node:http (no undici, so no instrumentation adds a traceparent of its own). */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<CheckAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () => {
        let body: CheckAnswer['body'];
        try {
          body = JSON.parse(text) as CheckAnswer['body'];
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const ORIGIN = 'https://app.example.com';
const bearer = (token: string) => ({ authorization: `Bearer ${token}`, origin: ORIGIN });

describe('the handshake check endpoint', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let check: string;

  beforeAll(async () => {
    t = await startApp({
      gateways: [EchoGateway],
      controllers: [NeighbourController],
      tracing: { allowedOrigins: [ORIGIN], requireAuth: true, authenticate, handshakeCheck: { perAddressPerMinute: 0 } },
    });
    check = `${t.httpUrl}/ws/.tracing-ws/check`;
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('answers 200 with reason null for a credential the upgrade would accept, without opening a connection', async () => {
    const metrics = await t.metrics();
    const res = await get(check, bearer(SECRET));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 200, reason: null, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(res.headers['x-trace-id']).toBe(res.body!.traceId);
    expect(res.headers['cache-control']).toBe('no-store');
    const after = await t.metrics();
    for (const name of ['ws_connections_active', 'ws_connections_opened_total']) expect(metricValue(after, name, { path: '/ws' })).toBe(metricValue(metrics, name, { path: '/ws' }));
  });

  it('answers 401 for an unknown token, under the trace id of the refusal line, counted like an upgrade refusal', async () => {
    const before = metricValue(await t.metrics(), 'ws_handshake_rejections_total', { path: '/ws', reason: 'invalid_credentials' });
    const res = await get(check, bearer('nope'));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ status: 401, reason: 'invalid_credentials', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: res.body!.traceId });
    expect(line).toMatchObject({ reason: 'invalid_credentials', status: 401, path: '/ws', handshake_check: true });
    expect(metricValue(await t.metrics(), 'ws_handshake_rejections_total', { path: '/ws', reason: 'invalid_credentials' })).toBe(before + 1);
    const span = await telemetry.waitForSpan((s) => s.spanContext().traceId === res.body!.traceId);
    expect(span.name).toBe('GET /ws/.tracing-ws/check');
    expect(span.attributes['http.response.status_code']).toBe(401);
  });

  it('continues the trace context the failed upgrade carried, so that both refusals share one trace id', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const refused = await upgrade(`${t.wsUrl}/ws?traceparent=${traceparent}`, { origin: ORIGIN, headers: { authorization: 'Bearer nope' } });
    expect(refused.status).toBe(401);
    const res = await get(`${check}?traceparent=${traceparent}`, bearer('nope'));
    expect(res.body).toMatchObject({ status: 401, traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(refused.headers['x-trace-id']).toBe(res.body!.traceId);
  });

  it('reads the credential from ?access_token= as the upgrade does', async () => {
    expect((await get(`${check}?access_token=${QUERY_SECRET}`, { origin: ORIGIN })).status).toBe(200);
    expect((await get(`${check}?access_token=wrong`, { origin: ORIGIN })).status).toBe(401);
  });

  it('answers 401 missing_credentials without a credential (requireAuth)', async () => {
    expect((await get(check, { origin: ORIGIN })).body).toMatchObject({ status: 401, reason: 'missing_credentials' });
  });

  it('answers 403 for a disallowed origin, before the authenticate hook runs', async () => {
    calls.length = 0;
    const res = await get(check, { ...bearer(SECRET), origin: 'https://evil.example.com' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ status: 403, reason: 'origin_not_allowed' });
    expect(calls).toEqual([]);
  });

  it('does not judge a missing Origin: browsers send none on a same-origin GET', async () => {
    expect((await get(check, { authorization: `Bearer ${SECRET}` })).status).toBe(200);
  });

  it('answers 500 auth_error when the hook throws, without its text', async () => {
    const res = await get(check, bearer('boom-token'));
    expect(res.body).toMatchObject({ status: 500, reason: 'auth_error' });
    expect(res.text + JSON.stringify(res.headers)).not.toContain('hunter2');
  });

  it('answers a CORS preflight, so that a page on another origin can read the answer, its cookies sent as with the upgrade', async () => {
    const res = await get(check, { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' }, 'OPTIONS');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-headers']).toContain('authorization');
    const answer = await get(check, bearer(SECRET));
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(answer.headers['access-control-expose-headers']).toContain('X-Trace-ID');
    expect(answer.headers.vary).toContain('Origin');
  });

  it('leaves every other path to the application: 404 where no gateway is, the own routes untouched', async () => {
    const nowhere = await get(`${t.httpUrl}/nowhere/.tracing-ws/check`, bearer(SECRET));
    expect(nowhere.status).toBe(404);
    expect(nowhere.body?.reason).toBeUndefined();
    expect((await get(`${t.httpUrl}/.tracing-ws/check`, bearer(SECRET))).status).toBe(404);
    const own = await get(`${t.httpUrl}/ws/status`);
    expect([own.status, own.body]).toEqual([200, { app: 'own route' }]);
  });

  it('never puts the credential in an answer or a log line', async () => {
    const res = await get(check, bearer(SECRET));
    expect(res.text + JSON.stringify(res.headers)).not.toContain(SECRET);
    expect((await get(check, bearer(`${SECRET}-x`))).text).not.toContain(SECRET);
    expect(logs.raw.length).toBeGreaterThan(5);
    expect(logs.raw.filter((l) => l.includes(SECRET))).toEqual([]);
    const libraryLines = logs.lines.filter((l) => String(l.msg).startsWith('ws.'));
    expect(libraryLines.filter((l) => JSON.stringify(l).includes(QUERY_SECRET))).toEqual([]);
  });
});

describe('the handshake check and connection slots', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [EchoGateway], tracing: { maxConnections: 1, authenticate, handshakeCheck: { perAddressPerMinute: 0 } } });
  });
  afterAll(() => t.close());

  it('takes no slot: after many checks a maxConnections: 1 app still accepts a client, and then says what the next upgrade would get', async () => {
    const check = `${t.httpUrl}/ws/.tracing-ws/check`;
    for (let i = 0; i < 30; i++) expect((await get(check, { authorization: `Bearer ${SECRET}` })).status).toBe(200);
    expect(metricValue(await t.metrics(), 'ws_connections_active', { path: '/ws' })).toBe(0);
    const socket = await connect(`${t.wsUrl}/ws`, { headers: { authorization: `Bearer ${SECRET}` } });
    try {
      expect(metricValue(await t.metrics(), 'ws_connections_active', { path: '/ws' })).toBe(1);
      expect((await get(check, { authorization: `Bearer ${SECRET}` })).body).toMatchObject({ status: 503, reason: 'connection_limit' });
      expect((await upgrade(`${t.wsUrl}/ws`, { headers: { authorization: `Bearer ${SECRET}` } })).status).toBe(503);
      expect((await socket.request('echo', 'still here')).data).toBe('still here');
    } finally {
      await socket.close();
    }
  });
});

describe('the handshake check limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [EchoGateway], tracing: { authenticate, trustProxy: true, handshakeCheck: { perAddressPerMinute: 2 } } });
  });
  afterAll(() => t.close());

  it('answers 429 check_limit with Retry-After past perAddressPerMinute, before the hook, neither logged nor counted', async () => {
    const check = `${t.httpUrl}/ws/.tracing-ws/check`;
    const from = (address: string, token = 'nope') => ({ authorization: `Bearer ${token}`, 'x-forwarded-for': address });
    // One registry per process: earlier apps of this file counted on the same series.
    const counted = async () => metricValue(await t.metrics(), 'ws_handshake_rejections_total', { path: '/ws', reason: 'invalid_credentials' });
    const before = await counted();
    expect((await get(check, from('203.0.113.7'))).status).toBe(401);
    expect((await get(check, from('203.0.113.7'))).status).toBe(401);
    calls.length = 0;
    const linesBefore = logs.find({ msg: 'ws.handshake_rejected' }).length;
    const limited = await get(check, from('203.0.113.7'));
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ status: 429, reason: 'check_limit', traceId: null });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30);
    expect(calls).toEqual([]);
    expect(logs.find({ msg: 'ws.handshake_rejected' })).toHaveLength(linesBefore);
    expect(await counted()).toBe(before + 2);
    // Another address has its own allowance.
    expect((await get(check, from('198.51.100.2', SECRET))).status).toBe(200);
  });
});

describe('with handshakeCheck.enabled false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [EchoGateway], tracing: { authenticate, handshakeCheck: { enabled: false } } });
  });
  afterAll(() => t.close());

  it('serves no check endpoint', async () => {
    expect((await get(`${t.httpUrl}/ws/.tracing-ws/check`, { authorization: `Bearer ${SECRET}` })).status).toBe(404);
  });
});

describe('in an app with a global prefix', () => {
  it('still answers at the gateway path, which the prefix never applies to', async () => {
    @Module({ imports: [TracingWsModule.forRoot({ authenticate })], providers: [EchoGateway], controllers: [NeighbourController] })
    class PrefixedModule {}
    const app = (await Test.createTestingModule({ imports: [PrefixedModule] }).compile()).createNestApplication({ logger: false });
    app.setGlobalPrefix('api');
    app.useWebSocketAdapter(new TracingWsAdapter(app));
    await app.listen(0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
      expect((await get(`${base}/ws/.tracing-ws/check`, { authorization: 'Bearer nope' })).body).toMatchObject({ status: 401, reason: 'invalid_credentials' });
      expect((await get(`${base}/api/ws/.tracing-ws/check`, { authorization: 'Bearer nope' })).status).toBe(404);
      expect((await get(`${base}/api/ws/status`)).body).toEqual({ app: 'own route' });
    } finally {
      await app.close();
    }
  });
});
