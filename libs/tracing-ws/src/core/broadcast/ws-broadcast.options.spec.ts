import { describe, expect, it } from '@jest/globals';
import { resolveTracingWsOptions } from '../options/resolve-options.js';
import { decodeEnvelope, encodeEnvelope, type WsEnvelopeHeader } from './ws-broadcast.envelope.js';

describe('broadcast options', () => {
  it('defaults to in-memory broadcasts with a generated, per-resolution instance id', () => {
    const one = resolveTracingWsOptions({}).broadcast;
    const two = resolveTracingWsOptions({}).broadcast;
    expect(one.redis).toBeUndefined();
    expect(one.instanceId).toMatch(/^[\w.-]+-\d+-[0-9a-f]{6}$/);
    expect(one.instanceId).not.toBe(two.instanceId);
  });

  it('fills the Redis defaults', () => {
    expect(resolveTracingWsOptions({ broadcast: { instanceId: 'web-1', redis: { url: 'redis://127.0.0.1:6379' } } }).broadcast).toEqual({
      instanceId: 'web-1',
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'tracing-ws:', presenceTtlMs: 30000, maxInFlightPublishes: 1000, staleAfterMs: 5000 },
    });
  });

  it('refuses a bad URL without echoing it (it may hold a password)', () => {
    let message = '';
    try {
      resolveTracingWsOptions({ broadcast: { redis: { url: 'http://user:secret@host' } } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('"broadcast.redis.url"');
    expect(message).not.toContain('secret');
  });

  it('names the option and the fix for a bad TTL, prefix or instance id', () => {
    expect(() => resolveTracingWsOptions({ broadcast: { redis: { url: 'redis://h', presenceTtlMs: 10 } } })).toThrow(/broadcast\.redis\.presenceTtlMs.*at least 300/);
    expect(() => resolveTracingWsOptions({ broadcast: { redis: { url: 'redis://h', keyPrefix: 'a b' } } })).toThrow(/broadcast\.redis\.keyPrefix/);
    expect(() => resolveTracingWsOptions({ broadcast: { instanceId: 'a:b' } })).toThrow(/broadcast\.instanceId/);
  });
});

describe('broadcast envelopes', () => {
  const header: WsEnvelopeHeader = { v: 1, id: 'e1', origin: 'web-1', audience: 'room', target: 'lobby', event: 'message', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', publishedAt: 1 };

  it('round-trips the header and carries the frame text untouched', () => {
    const frame = JSON.stringify({ event: 'message', data: { text: 'line\nbreak' }, meta: {} });
    expect(decodeEnvelope(encodeEnvelope(header, frame))).toEqual({ header, frame });
  });

  it('rejects text that is not an envelope', () => {
    for (const text of ['', 'garbage', '{"v":1}\n{}', `${JSON.stringify({ ...header, audience: 'room', target: undefined })}\n{}`, `${JSON.stringify({ ...header, v: 2 })}\n{}`]) {
      expect(decodeEnvelope(text)).toBeUndefined();
    }
  });
});
