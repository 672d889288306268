import { describe, expect, it } from '@jest/globals';
import type { WebSocket } from 'ws';
import type { WsOutgoingFrame } from '../../core/model/ws-transport.js';
import { WsSocketConnection } from './ws-socket.connection.js';

/** What ws's `send` was called with. */
function recordingSocket(): { socket: WebSocket; calls: Array<{ data: unknown; options: unknown }> } {
  const calls: Array<{ data: unknown; options: unknown }> = [];
  const socket = { readyState: 1, send: (data: unknown, options: unknown) => calls.push({ data, options }) } as unknown as WebSocket;
  return { socket, calls };
}

describe('WsSocketConnection.send', () => {
  it('encodes a broadcast frame once: every recipient is sent the same UTF-8 bytes as a text frame, counted in bytes', () => {
    const text = '{"event":"news","data":"café ✓"}';
    const frame: WsOutgoingFrame = { kind: 'event', event: 'news', meta: undefined, text };
    const [a, b] = [recordingSocket(), recordingSocket()];

    const sizes = [new WsSocketConnection(a.socket).send(frame), new WsSocketConnection(b.socket).send(frame)];

    expect(sizes).toEqual([Buffer.byteLength(text), Buffer.byteLength(text)]);
    const [sentA, sentB] = [a.calls[0]!, b.calls[0]!];
    expect(Buffer.isBuffer(sentA.data) && sentA.data.toString('utf8')).toBe(text);
    expect(sentB.data).toBe(sentA.data);
    expect(sentA.options).toEqual({ binary: false });
  });

  it('serialises replies and errors as JSON text frames', () => {
    const { socket, calls } = recordingSocket();
    const connection = new WsSocketConnection(socket);
    connection.send({ kind: 'reply', value: { ok: 'ü' }, meta: undefined, ack: undefined });
    connection.send({ kind: 'event', event: 'echo', data: 1, meta: { traceId: 'abc' } });
    expect(calls.map((c) => (c.data as Buffer).toString('utf8'))).toEqual(['{"ok":"ü"}', '{"event":"echo","data":1,"meta":{"traceId":"abc"}}']);
    expect(calls.every((c) => (c.options as { binary: boolean }).binary === false)).toBe(true);
  });
});
