import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as netConnect } from 'node:net';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { connect, upgradeRequestText } from '../../support/ws-client.js';
import { authenticate, ResilienceGateway } from '../../fixtures/resilience.gateway.js';

/** Sends a raw upgrade request and returns the whole response head. */
function rawUpgrade(port: number, path: string, headers: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, 3000);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', reject);
    socket.write(upgradeRequestText(path, '127.0.0.1', headers));
  });
}

const statusOf = (head: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);

describe('hostile handshake input', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { authenticate, requireAuth: true } });
    port = Number(new URL(t.httpUrl).port);
  });
  afterAll(() => t.close());

  const auth = 'Authorization: Bearer user-h';
  it.each([
    ['a control character in X-Trace-ID', [auth, 'X-Trace-ID: 4bf92f3577b34da6\x07a3ce929d0e0e4736'], '\x07'],
    ['an oversized X-Trace-ID', [auth, `X-Trace-ID: ${'ab'.repeat(4000)}`], 'abababab'],
    ['an oversized traceparent', [auth, `traceparent: 00-${'a'.repeat(32)}-${'b'.repeat(16)}-01${'-zz'.repeat(2000)}`], 'zz-zz'],
    ['a traceparent with version ff', [auth, 'traceparent: ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['a traceparent with invalid flags', [auth, 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz'], '4bf92f3577b34da6a3ce929d0e0e4736'],
  ])('ignores %s: 101 with a fresh trace id, nothing echoed or logged', async (_what, headers, marker) => {
    const head = await rawUpgrade(port, '/r', headers);
    if (statusOf(head) === 400) {
      // Node's HTTP parser refused it outright: also a clean answer.
      expect(head).not.toContain(marker);
      return;
    }
    expect(statusOf(head)).toBe(101);
    const traceId = /X-Trace-ID: ([0-9a-f]+)/i.exec(head)?.[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(head).not.toContain(marker);
    expect(logs.raw.some((l) => l.includes(marker))).toBe(false);
  });

  it('refuses a huge Authorization header with 401 without echoing it', async () => {
    const token = `t${'k'.repeat(10_000)}`;
    const head = await rawUpgrade(port, '/r', [`Authorization: Bearer ${token}`]);
    expect(statusOf(head)).toBe(401);
    expect(head).not.toContain('kkkkkkkk');
    expect(logs.raw.some((l) => l.includes('kkkkkkkk'))).toBe(false);
  });

  it('handles a 10 KB query string cleanly', async () => {
    const junk = encodeURIComponent('<x>'.repeat(700)); // ~5 KB each, ~10 KB in all
    const head = await rawUpgrade(port, `/r?traceId=${junk}&access_token=user-q&pad=${junk}`, []);
    expect(statusOf(head)).toBe(101);
    expect(head).not.toContain('%3Cx%3E');
    expect(logs.raw.some((l) => l.includes('%3Cx%3E') || l.includes('<x>'))).toBe(false);
  });

  it('still serves a well-behaved client afterwards', async () => {
    const socket = await connect(`${t.wsUrl}/r`, { headers: { authorization: 'Bearer user-ok' } });
    expect((await socket.request('echo', 'fine')).data).toBe('fine');
    await socket.close();
  });
});
