import { describe, expect, it } from '@jest/globals';
import { formatTraceparent, messageTrace, newSpanId, newTraceId, normalizeTraceId } from './trace-context.js';

describe('trace context', () => {
  it('generates W3C ids', () => {
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(newTraceId()).not.toBe(newTraceId());
  });

  it('accepts 32 hex or a UUID, as the server does, and nothing else', () => {
    expect(normalizeTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(normalizeTraceId('123e4567-e89b-12d3-a456-426614174000')).toBe('123e4567e89b12d3a456426614174000');
    expect(normalizeTraceId('0'.repeat(32))).toBeUndefined();
    expect(normalizeTraceId('not-a-trace-id')).toBeUndefined();
  });

  it('formats a traceparent', () => {
    expect(formatTraceparent('a'.repeat(32), 'b'.repeat(16))).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    expect(formatTraceparent('a'.repeat(32), 'b'.repeat(16), false)).toMatch(/-00$/);
  });

  it("gives a message the trace it asked for, or the fallback's, as a new span", () => {
    const asked = messageTrace('123e4567-e89b-12d3-a456-426614174000', () => 'f'.repeat(32), false, 'X.send');
    expect(asked.traceId).toBe('123e4567e89b12d3a456426614174000');
    expect(asked.traceparent).toMatch(/^00-123e4567e89b12d3a456426614174000-[0-9a-f]{16}-00$/);
    expect(messageTrace(undefined, () => 'f'.repeat(32), true, 'X.send').traceparent).toMatch(new RegExp(`^00-${'f'.repeat(32)}-[0-9a-f]{16}-01$`));
    expect(() => messageTrace('nope', newTraceId, true, 'X.send')).toThrow('X.send: traceId must be 32 hex characters (not all zeros) or a UUID');
  });
});
