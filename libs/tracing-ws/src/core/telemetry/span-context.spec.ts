import { describe, expect, it } from '@jest/globals';
import { createContextKey, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { MessageSpanContext, publisherContext } from './span-context.js';

describe('MessageSpanContext', () => {
  const span = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
  const other = createContextKey('other');
  const parent = ROOT_CONTEXT.setValue(other, 'kept');

  it('answers the span key like trace.setSpan, and the rest from its parent', () => {
    const ctx = new MessageSpanContext(parent, span);
    expect(trace.getSpan(ctx)).toBe(span);
    expect(ctx.getValue(other)).toBe('kept');
  });

  it('builds a regular context when a key is set or deleted', () => {
    const ctx = new MessageSpanContext(parent, span);
    const key = createContextKey('added');
    const next = ctx.setValue(key, 1);
    expect(next.getValue(key)).toBe(1);
    expect(trace.getSpan(next)).toBe(span);
    expect(ctx.getValue(key)).toBeUndefined();
    expect(trace.getSpan(ctx.deleteValue(other))).toBe(span);
    expect(ctx.deleteValue(other).getValue(other)).toBeUndefined();
  });
});

describe('publisherContext', () => {
  it("makes a delivery a remote child of the publisher's span, and links it", () => {
    const { parent, links } = publisherContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
    expect(trace.getSpanContext(parent)).toEqual({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1, isRemote: true });
    expect(links.map((l) => l.context.spanId)).toEqual(['2'.repeat(16)]);
  });

  it('starts a new root without a publisher span', () => {
    expect(publisherContext(undefined)).toEqual({ parent: ROOT_CONTEXT, links: [] });
    expect(publisherContext({ traceId: '1'.repeat(32), spanId: undefined, traceFlags: 1 }).links).toEqual([]);
  });
});
