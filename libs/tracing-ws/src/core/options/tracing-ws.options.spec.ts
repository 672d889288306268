import { describe, expect, it } from '@jest/globals';
import { resolveTracingWsOptions, TRACING_WS_DEFAULTS } from './resolve-options.js';
import type { TracingWsModuleOptions } from './tracing-ws.options.js';

describe('resolveTracingWsOptions', () => {
  it('gives the frozen defaults for no options', () => {
    const resolved = resolveTracingWsOptions(undefined);
    expect(resolved).toMatchObject({ traceMode: 'message', propagateToClient: true, messageLogLevel: 'debug', maxPayloadBytes: 1048576 });
    expect(resolved.heartbeat.intervalMs).toBe(TRACING_WS_DEFAULTS.heartbeat.intervalMs);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolved.broadcast.instanceId).not.toBe('');
  });

  it('merges nested options over the defaults', () => {
    const resolved = resolveTracingWsOptions({ rateLimit: { burst: 10 }, metrics: { prefix: 'chat_' } });
    expect(resolved.rateLimit).toEqual({ ...TRACING_WS_DEFAULTS.rateLimit, burst: 10 });
    expect(resolved.metrics.prefix).toBe('chat_');
    expect(resolved.metrics.sizeBuckets).toEqual(TRACING_WS_DEFAULTS.metrics.sizeBuckets);
  });

  it.each<[string, TracingWsModuleOptions, string]>([
    ['traceMode', { traceMode: 'session' as never }, '"traceMode"'],
    ['allowedOrigins', { allowedOrigins: ['', 'x'] }, '"allowedOrigins"'],
    ['requireAuth without a hook', { requireAuth: true }, '"requireAuth"'],
    ['maxPayloadBytes', { maxPayloadBytes: 1.5 }, '"maxPayloadBytes"'],
    ['metrics.prefix', { metrics: { prefix: 'bad prefix' } }, '"metrics.prefix"'],
    ['metrics.durationBuckets', { metrics: { durationBuckets: [1, 0.5] } }, '"metrics.durationBuckets"'],
    ['heartbeat.intervalMs', { heartbeat: { intervalMs: -1 } }, '"heartbeat.intervalMs"'],
    ['rateLimit.burst', { rateLimit: { burst: 0 } }, '"rateLimit.burst"'],
    ['onMessageSpan', { onMessageSpan: 'x' as never }, '"onMessageSpan"'],
    ['messageLogLevel', { messageLogLevel: 'loud' as never }, '"messageLogLevel"'],
  ])('throws one error naming %s and the fix', (_name, options, named) => {
    expect(() => resolveTracingWsOptions(options)).toThrow(named);
    expect(() => resolveTracingWsOptions(options)).toThrow(/^TracingWsModule: option .* is invalid \(got .*\): .+/);
  });
});
