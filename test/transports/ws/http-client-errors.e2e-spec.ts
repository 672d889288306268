import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection } from 'node:net';
import { startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { ResilienceGateway } from '../../fixtures/resilience.gateway.js';

/** Writes raw bytes to the app's port and resolves with whatever it answers before closing. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write(bytes));
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

/** Requests Node's parser refuses before any handler or upgrade sees them are counted, and still answered. */
describe('HTTP client errors', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway] });
    port = Number(new URL(t.httpUrl).port);
  });
  afterAll(() => t.close());

  it('answers an unparseable request 400 and an oversized header 431, and counts each by reason', async () => {
    const before = await t.metrics();
    expect(await raw(port, 'NOT-HTTP\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await raw(port, `GET /r HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    const after = await t.metrics();
    const delta = (reason: string) => metricValue(after, 'http_client_errors_total', { reason }) - metricValue(before, 'http_client_errors_total', { reason });
    expect(delta('bad_request')).toBe(1);
    expect(delta('headers_too_large')).toBe(1);
  });
});
