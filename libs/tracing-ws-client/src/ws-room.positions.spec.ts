import { describe, expect, it } from '@jest/globals';
import type { WsFrame, WsRoomPosition } from './ws-protocol.js';
import { WsRoomPositions } from './ws-room.positions.js';

function positions() {
  const asked: WsRoomPosition[] = [];
  const failed: Array<{ room: string; reason: string }> = [];
  const recovered: Array<{ room: string; count: number }> = [];
  let now = 1000;
  const p = new WsRoomPositions({ ask: (x) => asked.push(x), failed: (x) => failed.push(x), recovered: (x) => recovered.push(x) }, () => now);
  return { p, asked, failed, recovered, advance: (ms: number) => (now += ms) };
}
const said = (offset: number, epoch = 'e', recovered = false): WsFrame => ({ event: 'said', data: offset, meta: { room: 'r', epoch, offset, ...(recovered ? { recovered: true as const } : {}) } });

describe('WsRoomPositions', () => {
  it('delivers a room in order, drops what it has seen, and asks once for a gap', () => {
    const { p, asked } = positions();
    expect([1, 2, 2, 1].map((o) => p.onFrame(said(o)))).toEqual(['deliver', 'deliver', 'drop', 'drop']);
    expect(p.onFrame(said(5))).toBe('drop');
    expect(p.onFrame(said(6))).toBe('drop');
    expect(asked).toEqual([{ room: 'r', epoch: 'e', offset: 2 }]);
    // The replay fills the gap, then live broadcasts follow.
    expect([3, 4, 5, 6].map((o) => p.onFrame(said(o, 'e', true)))).toEqual(['deliver', 'deliver', 'deliver', 'deliver']);
    expect(p.onFrame(said(7))).toBe('deliver');
  });

  it('asks again for a gap only when the first request was not answered in time', () => {
    const { p, asked, advance } = positions();
    p.onFrame(said(1));
    p.onFrame(said(3));
    p.onFrame(said(4));
    expect(asked).toHaveLength(1);
    advance(10001);
    p.onFrame(said(5));
    expect(asked).toHaveLength(2);
  });

  it('puts the last position in a re-join, and starts from the position a failure gives, reporting it once', () => {
    const { p, failed } = positions();
    p.onFrame(said(1));
    expect(p.recoverMeta('r')).toEqual({ room: 'r', epoch: 'e', offset: 1 });
    expect(p.recoverMeta('other')).toBeUndefined();
    expect(p.onFrame({ event: 'tracing-ws:recovery_failed', data: { room: 'r', reason: 'gap', epoch: 'e', offset: 40 } })).toBe('handled');
    expect(failed).toEqual([{ room: 'r', reason: 'gap' }]);
    expect(p.onFrame(said(41))).toBe('deliver');
  });

  it('learns a position from a join, and asks when a hint says the room moved on', () => {
    const { p, asked } = positions();
    expect(p.onFrame({ event: 'tracing-ws:position', data: { room: 'r', epoch: '', offset: 0 } })).toBe('handled');
    expect(p.onFrame(said(1, 'new'))).toBe('deliver');
    p.onFrame({ event: 'tracing-ws:position', data: { room: 'r', epoch: 'new', offset: 4 } });
    expect(asked).toEqual([{ room: 'r', epoch: 'new', offset: 1 }]);
  });

  it('reports once that unnumbered broadcasts (the server lost its Redis) cannot be recovered, and delivers them', () => {
    const { p, failed } = positions();
    p.onFrame(said(1));
    const unnumbered: WsFrame = { event: 'said', data: 'x', meta: { room: 'r', recoverable: false } };
    expect([p.onFrame(unnumbered), p.onFrame(unnumbered)]).toEqual(['deliver', 'deliver']);
    expect(failed).toEqual([{ room: 'r', reason: 'unavailable' }]);
  });

  it('leaves frames of rooms without a history alone', () => {
    const { p } = positions();
    expect(p.onFrame({ event: 'said', data: 1, meta: { traceId: 't' } })).toBe('deliver');
    expect(p.onFrame({ event: 'said', data: 1 })).toBe('deliver');
  });
});
