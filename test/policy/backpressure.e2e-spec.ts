import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WsBroadcaster } from '@tracing-ws/nestjs';
import type { Socket } from 'node:net';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

describe('backpressure', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      gateways: [ResilienceGateway],
      // The heartbeat would also drop a peer that stopped reading (no pongs): keep it slower than the backpressure close.
      tracing: { backpressure: { maxBufferedBytes: 256 * 1024, closeAfterMs: 100 }, heartbeat: { intervalMs: 2000 } },
    });
  });
  afterAll(() => t.close());

  it('drops broadcasts to a client that does not read, closes it with 1013, and serves the others at full speed', async () => {
    const slow = await connect(`${t.wsUrl}/r`);
    const fast = await connect(`${t.wsUrl}/r`);
    await slow.request('join', { room: 'feed' }, 'joined');
    await fast.request('join', { room: 'feed' }, 'joined');
    // The slow client stops reading its TCP socket: the server's send buffer fills.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const broadcaster = t.app.get(WsBroadcaster);
    const chunk = 'x'.repeat(64 * 1024);
    const N = 300;
    let received = 0;
    fast.ws.on('message', () => received++);
    for (let i = 0; i < N; i++) {
      broadcaster.toRoom('feed').emit('chunk', { i, chunk });
      // Let the event loop flush between broadcasts, as a real feed would.
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => received >= N, 10000, `${N} broadcasts to the fast client`);
    const dropped = metricValue(await t.metrics(), 'ws_messages_dropped_total', { path: '/r', reason: 'backpressure' });
    expect(dropped).toBeGreaterThan(0);
    const line = await logs.waitFor({ msg: 'ws.slow_consumer', connection_trace_id: slow.upgradeHeaders['x-trace-id'] }, 10000);
    // The send buffer stayed bounded: the threshold plus at most one frame in flight when it was crossed.
    expect(line.buffered_bytes as number).toBeLessThan(256 * 1024 + 4 * chunk.length);
    const closed = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: slow.upgradeHeaders['x-trace-id'] }, 10000);
    expect(closed.code).toBe(1013);
    expect((await fast.request('echo', 'still fast')).data).toBe('still fast');
    await fast.close();
  });

  it('stops reading from a client that floods requests without reading replies, then closes it with 1013', async () => {
    const flooder = await connect(`${t.wsUrl}/r`);
    const polite = await connect(`${t.wsUrl}/r`);
    (flooder.ws as unknown as { _socket: Socket })._socket.pause();
    const big = { blob: 'y'.repeat(64 * 1024) };
    // Bounded: at most 400 frames (26 MB) however long the server takes.
    let sent = 0;
    while (sent < 400 && flooder.ws.readyState === flooder.ws.OPEN) {
      flooder.send('echo', big);
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    const line = await logs.waitFor({ msg: 'ws.slow_consumer', connection_trace_id: flooder.upgradeHeaders['x-trace-id'] }, 10000);
    expect(line.buffered_bytes as number).toBeLessThan(256 * 1024 + 8 * 70 * 1024);
    const closed = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: flooder.upgradeHeaders['x-trace-id'] }, 10000);
    expect(closed.code).toBe(1013);
    // The server read far fewer frames than were sent: it stopped reading the flooder.
    expect(closed.messages_in as number).toBeLessThan(sent);
    expect((await polite.request('echo', 'ok')).data).toBe('ok');
    await polite.close();
  });
});
