import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TracingWsAdminModule } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { SseStream } from '../support/sse.js';
import { waitFor } from '../support/wait.js';
import { CONFORMANCE_PATH } from '../conformance/harness.js';
import { connect, upgrade } from '../support/ws-client.js';
import { ADMIN_HEADERS, ADMIN_TOKEN, AdminChatGateway, adminModule } from './admin-fixtures.js';

const ROUTES: Array<{ method: string; path: string }> = [
  { method: 'GET', path: 'connections?user=alice' },
  { method: 'DELETE', path: 'connections?user=alice' },
  { method: 'DELETE', path: 'connections/0b7f6a3e-1d2c-4e5f-8a9b-0c1d2e3f4a5b' },
  { method: 'GET', path: 'trace?user=alice' },
  { method: 'POST', path: 'debug?user=alice' },
  { method: 'DELETE', path: 'debug?user=alice' },
];

const HOSTILE = ['alice\nFAKE-LINE {"level":60}', 'a'.repeat(10 * 1024), '../../etc/passwd', '..', 'x y', 'bob\u202e', ''];

describe('the admin surface: credentials, identifiers and bounds', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp({ gateways: [AdminChatGateway], imports: [adminModule({ maxWatches: 2 })], tracing: { authenticate: ({ token }) => ({ id: token }) } });
  });
  afterAll(() => app?.close());

  it.each(ROUTES)('$method /admin/$path refuses without a credential (401) and with a wrong one (403), echoing none', async ({ method, path }) => {
    const none = await fetch(`${app.httpUrl}/admin/${path}`, { method });
    expect(none.status).toBe(401);
    const wrong = await fetch(`${app.httpUrl}/admin/${path}`, { method, headers: { authorization: 'Bearer guess-0001' } });
    expect(wrong.status).toBe(403);
    const text = await wrong.text();
    expect(text).not.toContain('guess-0001');
    expect(none.headers.get('content-type')).not.toContain('event-stream');
  });

  it('refuses hostile identifiers with 400 and a fixed message, echoing and logging none of them raw', async () => {
    const libraryLines = () => logs.raw.filter((l) => !l.includes('"req":'));
    for (const id of HOSTILE) {
      const q = encodeURIComponent(id);
      for (const [method, path] of [['GET', `connections?user=${q}`], ['GET', `trace?user=${q}`], ['POST', `debug?user=${q}`], ['DELETE', `connections?user=${q}`], ['DELETE', `connections/${q}`], ['GET', `connections?path=${q}`]] as const) {
        const res = await fetch(`${app.httpUrl}/admin/${path}`, { method, headers: ADMIN_HEADERS });
        // An empty id in the path is another route (404): refused all the same.
        expect([400, 404]).toContain(res.status);
        const body = await res.text();
        if (id.length > 3) expect(body).not.toContain(id.slice(0, 40));
        expect(body).not.toContain(ADMIN_TOKEN);
        if (res.status === 400) expect(JSON.parse(body).message).toMatch(/^Invalid|^Name one/);
      }
    }
    // The library's lines never carry them (the app's request lines get the URL, percent-encoded: no raw newline).
    for (const line of libraryLines()) {
      expect(line).not.toContain('FAKE-LINE');
      expect(line).not.toContain('a'.repeat(300));
      expect(line).not.toContain('etc/passwd');
    }
    expect(logs.raw.join('\n')).not.toContain('alice\nFAKE-LINE');
    expect(logs.raw.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('refuses close codes a server may not send', async () => {
    for (const code of ['1002', '1005', '1006', '1015', '3000', '5000', 'abc', '1000.5']) {
      const res = await fetch(`${app.httpUrl}/admin/connections?user=alice&code=${code}`, { method: 'DELETE', headers: ADMIN_HEADERS });
      expect(res.status).toBe(400);
    }
    for (const code of ['1000', '1001', '1008', '1011', '1012', '1013', '4000', '4999']) {
      const res = await fetch(`${app.httpUrl}/admin/connections?user=alice&code=${code}`, { method: 'DELETE', headers: ADMIN_HEADERS });
      expect(res.status).toBe(200);
    }
  });

  it('refuses a live trace beyond maxWatches with 429, and keeps admin routes out of the HTTP latency metric', async () => {
    const first = await SseStream.open(`${app.httpUrl}/admin/trace?user=u1`, ADMIN_HEADERS);
    const second = await SseStream.open(`${app.httpUrl}/admin/trace?user=u2`, ADMIN_HEADERS);
    await first.waitFor({ type: 'watch' });
    await second.waitFor({ type: 'watch' });
    const third = await fetch(`${app.httpUrl}/admin/trace?user=u3`, { headers: ADMIN_HEADERS });
    expect(third.status).toBe(429);
    first.close();
    await waitFor(async () => (await fetch(`${app.httpUrl}/admin/trace?user=u3&durationMs=1000`, { headers: ADMIN_HEADERS })).status === 200 || undefined, 5000, 'a slot after a watch ended');
    second.close();
    const metrics = await app.metrics();
    expect(metrics).not.toMatch(/http_request_duration_seconds_count\{[^}]*route="\/admin/);
    expect(metricValue(metrics, 'http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' })).toBeGreaterThanOrEqual(0);
  });

  it('ends a watch at its duration with an end event', async () => {
    const trace = await SseStream.open(`${app.httpUrl}/admin/trace?user=u9&durationMs=1000`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'end', reason: 'expired' }, 3000);
    await trace.ended;
  });

  it('refuses to start without a guard or a canActivate hook', () => {
    expect(() => TracingWsAdminModule.forRoot({})).toThrow(/guard class or a canActivate/);
    expect(() => TracingWsAdminModule.forRoot({ canActivate: () => true, maxWatches: 0 })).toThrow(/maxWatches/);
  });
});

describe('the admin surface at shutdown', () => {
  it('ends open live traces, so that app.close() is not held by them', async () => {
    const app = await startApp({ gateways: [AdminChatGateway], imports: [adminModule()], tracing: { authenticate: ({ token }) => ({ id: token }), shutdown: { timeoutMs: 30_000 } } });
    const trace = await SseStream.open(`${app.httpUrl}/admin/trace?user=zed`, ADMIN_HEADERS);
    await trace.waitFor({ type: 'watch' });
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await trace.waitFor({ type: 'end', reason: 'shutdown' });
    await trace.ended;
  });
});

describe('the live trace of a refused handshake', () => {
  it('shows a watched user the refusal of a connection over the limit, with its status and reason', async () => {
    const app = await startApp({ gateways: [AdminChatGateway], imports: [adminModule()], tracing: { authenticate: ({ token }) => ({ id: token }), maxConnections: 1 } });
    try {
      const trace = await SseStream.open(`${app.httpUrl}/admin/trace?user=rex`, ADMIN_HEADERS);
      await trace.waitFor({ type: 'watch' });
      const first = await connect(`${app.wsUrl}${CONFORMANCE_PATH}`, { headers: { authorization: 'Bearer rex' } });
      const second = await upgrade(`${app.wsUrl}${CONFORMANCE_PATH}`, { headers: { authorization: 'Bearer rex' } });
      expect(second.status).toBe(503);
      const refused = await trace.waitFor({ type: 'handshake_rejected' }, 1000);
      expect(refused).toMatchObject({ user_id: 'rex', status: 503, trace_id: second.headers['x-trace-id'] });
      await first.close();
      trace.close();
    } finally {
      await app.close();
    }
  });
});
