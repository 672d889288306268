import { describe, expect, it } from '@jest/globals';
import { ioMetaArgument, readIoAck, readIoException, takeIoMeta } from './io-wire.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('socket.io wire (client side)', () => {
  it('puts meta in a trailing {$meta} argument', () => {
    expect(ioMetaArgument({ traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, id: 'a-1' })).toEqual({ $meta: { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, id: 'a-1' } });
  });

  it("takes the server's trailing {$meta} off an event's arguments, and nothing else", () => {
    expect(takeIoMeta([{ room: 'r' }, { $meta: { traceId: TRACE } }])).toEqual({ args: [{ room: 'r' }], meta: { traceId: TRACE } });
    // A lone argument is the event's data, even when it looks like meta.
    expect(takeIoMeta([{ $meta: { traceId: TRACE } }])).toEqual({ args: [{ $meta: { traceId: TRACE } }], meta: {} });
    // An object with more than $meta is data.
    expect(takeIoMeta(['x', { $meta: {}, other: 1 }])).toEqual({ args: ['x', { $meta: {}, other: 1 }], meta: {} });
    expect(takeIoMeta(['x'])).toEqual({ args: ['x'], meta: {} });
  });

  it('keeps only the string fields it knows of a meta', () => {
    expect(takeIoMeta(['x', { $meta: { traceId: TRACE, id: 7, extra: 'y' } }]).meta).toEqual({ traceId: TRACE });
    expect(takeIoMeta(['x', { $meta: 'nonsense' }]).meta).toEqual({});
  });

  it("reads an acknowledgement of a plain object: the handler's object without $meta", () => {
    expect(readIoAck({ room: 'r', members: 2, $meta: { traceId: TRACE, id: 'a-1' } })).toEqual({ data: { room: 'r', members: 2 }, meta: { traceId: TRACE, id: 'a-1' } });
  });

  it('reads an acknowledgement of any other value from its data', () => {
    expect(readIoAck({ data: 42, $meta: { traceId: TRACE } })).toEqual({ data: 42, meta: { traceId: TRACE } });
    expect(readIoAck({ data: [1, 2], $meta: { traceId: TRACE } })).toEqual({ data: [1, 2], meta: { traceId: TRACE } });
    expect(readIoAck({ data: null, $meta: {} })).toEqual({ data: null, meta: {} });
  });

  it('reads a value a server sent without meta as it is', () => {
    expect(readIoAck('ok')).toEqual({ data: 'ok', meta: {} });
    expect(readIoAck(undefined)).toEqual({ data: undefined, meta: {} });
    expect(readIoAck({ ok: true })).toEqual({ data: { ok: true }, meta: {} });
  });

  it('reads a failed message from {error, $meta}, with the trace id of the error or else of the meta', () => {
    expect(readIoAck({ error: { code: 'BAD_REQUEST', message: 'join the room first', traceId: TRACE, retryable: false }, $meta: { traceId: TRACE } })).toEqual({
      error: { code: 'BAD_REQUEST', message: 'join the room first', traceId: TRACE, retryable: false },
      meta: { traceId: TRACE },
    });
    expect(readIoAck({ error: { code: 'RATE_LIMITED', retryable: true }, $meta: { traceId: TRACE } })).toEqual({
      error: { code: 'RATE_LIMITED', message: '', traceId: TRACE, retryable: true },
      meta: { traceId: TRACE },
    });
  });

  it("does not mistake a handler's object with an error field for a failure", () => {
    expect(readIoAck({ error: 'none', $meta: { traceId: TRACE } })).toEqual({ data: { error: 'none' }, meta: { traceId: TRACE } });
    expect(readIoAck({ error: { code: 'X' }, count: 1, $meta: {} })).toEqual({ data: { error: { code: 'X' }, count: 1 }, meta: {} });
  });

  it('reads the error data of an exception event', () => {
    expect(readIoException([{ code: 'INTERNAL', message: 'Internal server error', retryable: false }, { $meta: { traceId: TRACE } }])).toEqual({
      code: 'INTERNAL',
      message: 'Internal server error',
      traceId: TRACE,
      retryable: false,
    });
    expect(readIoException(['not error data'])).toBeUndefined();
  });
});
