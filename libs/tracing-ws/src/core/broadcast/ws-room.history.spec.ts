import { describe, expect, it } from '@jest/globals';
import { resolveTracingWsOptions } from '../options/resolve-options.js';
import { MemoryRoomHistory } from './memory-room.history.js';
import { decodeEnvelope } from './ws-broadcast.envelope.js';
import { decideRecovery, frameBody, frameText, type WsHistoryEntry } from './ws-room.history.js';

const entry = (offset: number, publishedAt = 1000): WsHistoryEntry => ({ offset, event: 'said', body: frameBody('said', { offset }), traceparent: undefined, traceId: undefined, publishedAt });
const read = (epoch: string, head: number, from: number) => ({ epoch, head, entries: Array.from({ length: head - from + 1 }, (_, i) => entry(from + i)) });

describe('broadcast.history options', () => {
  it('is off unless given, and {} turns it on with the documented defaults', () => {
    expect(resolveTracingWsOptions({}).broadcast.history).toBeUndefined();
    expect(resolveTracingWsOptions({ broadcast: { history: {} } }).broadcast.history).toEqual({ size: 100, ttlMs: 300000, maxBytes: 64 * 1024 * 1024 });
  });

  it('refuses a bad value with an error naming the option and the fix', () => {
    expect(() => resolveTracingWsOptions({ broadcast: { history: { size: 0 } } })).toThrow('option "broadcast.history.size" is invalid (got 0): give a whole number of broadcasts per room, 1 to 100000.');
    expect(() => resolveTracingWsOptions({ broadcast: { history: { ttlMs: 10 } } })).toThrow('option "broadcast.history.ttlMs" is invalid (got 10): give a whole number of milliseconds, at least 1000.');
    expect(() => resolveTracingWsOptions({ broadcast: { history: { maxBytes: 1.5 } } })).toThrow('"broadcast.history.maxBytes"');
  });
});

describe('decideRecovery (all or nothing)', () => {
  it('replays everything after the offset, up to the head', () => {
    expect(decideRecovery({ room: 'r', epoch: 'e', offset: 3 }, read('e', 6, 1), 10000, 2000)).toEqual({ ok: true, entries: [entry(4), entry(5), entry(6)] });
    expect(decideRecovery({ room: 'r', epoch: 'e', offset: 6 }, read('e', 6, 1), 10000, 2000)).toEqual({ ok: true, entries: [] });
  });

  it('replays a whole new stream to a client that joined before the room had one', () => {
    expect(decideRecovery({ room: 'r', epoch: '', offset: 0 }, read('e', 2, 1), 10000, 2000)).toEqual({ ok: true, entries: [entry(1), entry(2)] });
  });

  it('fails with gap when the history no longer holds the first missed offset, or it is older than ttlMs', () => {
    expect(decideRecovery({ room: 'r', epoch: 'e', offset: 1 }, read('e', 9, 4), 10000, 2000)).toEqual({ ok: false, reason: 'gap' });
    expect(decideRecovery({ room: 'r', epoch: 'e', offset: 3 }, read('e', 6, 1), 500, 2000)).toEqual({ ok: false, reason: 'gap' });
  });

  it('fails with epoch when the stream changed or the offset is ahead of it', () => {
    expect(decideRecovery({ room: 'r', epoch: 'old', offset: 3 }, read('new', 6, 1), 10000, 2000)).toEqual({ ok: false, reason: 'epoch' });
    expect(decideRecovery({ room: 'r', epoch: 'e', offset: 9 }, read('e', 6, 1), 10000, 2000)).toEqual({ ok: false, reason: 'epoch' });
  });
});

describe('MemoryRoomHistory', () => {
  it('numbers per room from 1, keeps the last `size`, and gives each room its own epoch', () => {
    const history = new MemoryRoomHistory({ size: 3, ttlMs: 60000, maxBytes: 1 << 20 });
    try {
      const a = [1, 2, 3, 4, 5].map(() => history.append('a', { event: 'said', body: '{"event":"said"', traceparent: undefined, traceId: undefined, publishedAt: Date.now() }));
      const b = history.append('b', { event: 'said', body: '{"event":"said"', traceparent: undefined, traceId: undefined, publishedAt: Date.now() });
      expect(a.map((p) => p.offset)).toEqual([1, 2, 3, 4, 5]);
      expect(b.offset).toBe(1);
      expect(b.epoch).not.toBe(a[0]!.epoch);
      expect(history.read('a', 0).entries.map((e) => e.offset)).toEqual([3, 4, 5]);
      expect(history.read('a', 4).entries.map((e) => e.offset)).toEqual([5]);
      expect(history.size.entries).toBe(4);
    } finally {
      history.stop();
    }
  });

  it('stays under maxBytes by taking from the least recently written room first', () => {
    const history = new MemoryRoomHistory({ size: 1000, ttlMs: 60000, maxBytes: 65536 });
    try {
      const body = `{"event":"said","data":"${'x'.repeat(1000)}"`;
      for (let i = 0; i < 40; i++) history.append('old', { event: 'said', body, traceparent: undefined, traceId: undefined, publishedAt: Date.now() });
      for (let i = 0; i < 40; i++) history.append('new', { event: 'said', body, traceparent: undefined, traceId: undefined, publishedAt: Date.now() });
      expect(history.size.bytes).toBeLessThanOrEqual(65536);
      expect(history.read('new', 0).entries).toHaveLength(40);
      expect(history.read('new', 0).head).toBe(40);
    } finally {
      history.stop();
    }
  });
});

describe('the numbered envelope and frame text', () => {
  it('reads the position line the Redis script puts in front of the envelope', () => {
    const header = { v: 1, id: 'x', origin: 'a', audience: 'room', target: 'r', event: 'said', publishedAt: 1 };
    const decoded = decodeEnvelope(`@ab12:17\n${JSON.stringify(header)}\n{"event":"said","data":1`);
    expect(decoded?.position).toEqual({ epoch: 'ab12', offset: 17 });
    expect(decoded?.frame).toBe('{"event":"said","data":1');
    expect(decodeEnvelope(`@ab12:x\n${JSON.stringify(header)}\nframe`)).toBeUndefined();
  });

  it('builds the same JSON as serialising the whole frame', () => {
    const meta = { traceId: 't', room: 'r', epoch: 'e', offset: 3 };
    expect(JSON.parse(frameText(frameBody('said', { text: 'hi' }), meta))).toEqual({ event: 'said', data: { text: 'hi' }, meta });
    expect(JSON.parse(frameText(frameBody('ping', undefined), meta))).toEqual({ event: 'ping', meta });
  });
});
