import { describe, expect, it } from '@jest/globals';
import { checkHandshake, checkUrlOf, readCheckAnswer, retryAfterMs } from './ws-handshake.check.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/**
 * A fetch that records its calls and answers `status` with `body` (or throws `error`).
 * Like a browser's, it throws when called as a method of anything but the global object.
 */
function fakeFetch(status: number, body: unknown, headers: Record<string, string> = {}, error?: Error) {
  const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
  const impl = async function (this: unknown, url: string, init?: RequestInit) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
    calls.push({ url, init });
    if (error) throw error;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers });
  } as unknown as typeof fetch;
  return { impl, calls };
}

describe('checkUrlOf', () => {
  it('appends the check suffix to the gateway path and keeps the query (trace context, a query token)', () => {
    expect(checkUrlOf('ws://127.0.0.1:3000/chat?traceparent=00-abc&access_token=t')).toBe('http://127.0.0.1:3000/chat/.tracing-ws/check?traceparent=00-abc&access_token=t');
    expect(checkUrlOf('wss://example.com/chat/')).toBe('https://example.com/chat/.tracing-ws/check');
    expect(checkUrlOf('wss://example.com')).toBe('https://example.com/.tracing-ws/check');
  });
});

describe('readCheckAnswer', () => {
  it('is a refusal for 401 and 403 answered by the endpoint itself, with its trace id', () => {
    expect(readCheckAnswer(401, { status: 401, reason: 'invalid_credentials', traceId: TRACE_ID }, null)).toEqual({
      kind: 'refused',
      refusal: { status: 401, reason: 'invalid_credentials', traceId: TRACE_ID },
    });
    expect(readCheckAnswer(403, { status: 403, reason: 'origin_not_allowed', traceId: 'junk' }, null)).toEqual({
      kind: 'refused',
      refusal: { status: 403, reason: 'origin_not_allowed', traceId: undefined },
    });
  });

  it("is no refusal when a 401 / 403 is not the endpoint's JSON (a proxy's or CDN's page)", () => {
    expect(readCheckAnswer(403, undefined, null)).toEqual({ kind: 'retry', floorMs: 0 });
    expect(readCheckAnswer(401, { message: 'Unauthorized' }, null)).toEqual({ kind: 'retry', floorMs: 0 });
    expect(readCheckAnswer(403, { status: 401, reason: 'invalid_credentials' }, null)).toEqual({ kind: 'retry', floorMs: 0 });
  });

  it('backs off for everything else, at least as long as Retry-After says', () => {
    expect(readCheckAnswer(200, { status: 200, reason: null, traceId: TRACE_ID }, null)).toEqual({ kind: 'retry', floorMs: 0 });
    expect(readCheckAnswer(503, { status: 503, reason: 'connection_limit', traceId: TRACE_ID }, null)).toEqual({ kind: 'retry', floorMs: 0 });
    expect(readCheckAnswer(429, { status: 429, reason: 'check_limit', traceId: null }, '7')).toEqual({ kind: 'retry', floorMs: 7000 });
    expect(readCheckAnswer(404, '<html>', null)).toEqual({ kind: 'retry', floorMs: 0 });
  });
});

describe('retryAfterMs', () => {
  it('reads delta seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(retryAfterMs('120', now)).toBe(120000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:27:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
    expect(retryAfterMs(null, now)).toBe(0);
  });
});

describe('checkHandshake', () => {
  it('sends a subprotocol token as Authorization: Bearer to the check URL, with the cookies, uncached', async () => {
    const fetch = fakeFetch(401, { status: 401, reason: 'invalid_credentials', traceId: TRACE_ID });
    const verdict = await checkHandshake({ socketUrl: 'ws://h/chat?traceparent=x', bearerToken: 'tok', timeoutMs: 1000, fetch: fetch.impl });
    expect(verdict.kind).toBe('refused');
    expect(fetch.calls).toHaveLength(1);
    expect(fetch.calls[0]!.url).toBe('http://h/chat/.tracing-ws/check?traceparent=x');
    expect(fetch.calls[0]!.init).toMatchObject({ headers: { authorization: 'Bearer tok' }, credentials: 'include', cache: 'no-store' });
  });

  it('sends no Authorization without a subprotocol token (a query token is already in the URL)', async () => {
    const fetch = fakeFetch(200, { status: 200, reason: null, traceId: TRACE_ID });
    await checkHandshake({ socketUrl: 'ws://h/chat?access_token=t', bearerToken: undefined, timeoutMs: 1000, fetch: fetch.impl });
    expect(fetch.calls[0]!.init?.headers).toEqual({});
  });

  it('backs off as usual when the check cannot be made (server down) or read', async () => {
    const down = fakeFetch(0, undefined, {}, new TypeError('fetch failed'));
    expect(await checkHandshake({ socketUrl: 'ws://h/chat', bearerToken: 't', timeoutMs: 1000, fetch: down.impl })).toEqual({ kind: 'retry', floorMs: 0 });
    const html = fakeFetch(401, '<h1>sign in</h1>');
    expect(await checkHandshake({ socketUrl: 'ws://h/chat', bearerToken: 't', timeoutMs: 1000, fetch: html.impl })).toEqual({ kind: 'retry', floorMs: 0 });
  });

  it('gives up on a check that does not answer within timeoutMs, or that is aborted', async () => {
    const hanging = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as unknown as typeof fetch;
    const started = Date.now();
    expect(await checkHandshake({ socketUrl: 'ws://h/chat', bearerToken: 't', timeoutMs: 50, fetch: hanging })).toEqual({ kind: 'retry', floorMs: 0 });
    expect(Date.now() - started).toBeLessThan(2000);
    const abort = new AbortController();
    const pending = checkHandshake({ socketUrl: 'ws://h/chat', bearerToken: 't', timeoutMs: 60000, fetch: hanging, signal: abort.signal });
    abort.abort();
    expect(await pending).toEqual({ kind: 'retry', floorMs: 0 });
  });
});
