import { describe, expect, it } from '@jest/globals';
import { formatTraceparent, generateTraceId, normalizeTraceId, parseTraceparent } from './trace-context.js';

describe('normalizeTraceId', () => {
  it('accepts 32 hex digits and lowercases them', () => {
    expect(normalizeTraceId('4BF92F3577B34DA6A3CE929D0E0E4736')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
  it('normalises a UUID to 32 lowercase hex', () => {
    expect(normalizeTraceId('123E4567-E89B-12D3-A456-426614174000')).toBe('123e4567e89b12d3a456426614174000');
  });
  it.each([
    ['all zeros', '00000000000000000000000000000000'],
    ['too short', 'abc'],
    ['not hex', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'],
    ['a newline', '4bf92f3577b34da6a3ce929d0e0e4736\n'],
    ['1 KB of junk', 'x'.repeat(1024)],
    ['not a string', 42],
  ])('refuses %s', (_name, value) => {
    expect(normalizeTraceId(value)).toBeUndefined();
  });
});

describe('parseTraceparent', () => {
  it('parses a version 00 traceparent', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
  });
  it('accepts a future version with extra fields', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra')?.traceFlags).toBe(0);
  });
  it.each([
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['uppercase', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['trailing data on version 00', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x'],
    ['invalid flags', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz'],
    ['huge', `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01${'-'.repeat(500)}`],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
  });
});

describe('generateTraceId', () => {
  it('gives distinct valid ids', () => {
    const a = generateTraceId();
    expect(normalizeTraceId(a)).toBe(a);
    expect(generateTraceId()).not.toBe(a);
  });
});

describe('formatTraceparent', () => {
  it('writes what parseTraceparent reads, flags as two hex digits', () => {
    const sc = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    expect(formatTraceparent(sc)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent(formatTraceparent({ ...sc, traceFlags: 0x1f }))).toEqual({ ...sc, traceFlags: 0x1f });
  });
});
