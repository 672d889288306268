import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'node:net';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';
import { ResilienceGateway } from '../fixtures/resilience.gateway.js';

/**
 * The close model: the code recorded is the code that was sent, and who ended
 * the connection is said (`closed_by`); an abuser the library closes is read no
 * further and does not linger for ws's 30 s close timeout.
 */
describe('how a connection ends, as recorded', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [ResilienceGateway], tracing: { rateLimit: { messagesPerSecond: 20, burst: 20, closeAfterRefused: 10 } } });
  });
  afterAll(() => t.close());

  it('records 1007 for a text frame that is not UTF-8 (ws sends 1007; the peer never answers), without a stack', async () => {
    const client = await connect(`${t.wsUrl}/r`);
    const traceId = client.upgradeHeaders['x-trace-id'] as string;
    client.ws.send(Buffer.from([0xc3, 0x28, 0xff]), { binary: false });
    expect((await client.closed).code).toBe(1007);
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: traceId });
    expect(gone).toMatchObject({ code: 1007, closed_by: 'policy' });
    const abuse = await logs.waitFor({ msg: 'ws.closed_for_abuse', connection_trace_id: traceId });
    expect(abuse).toMatchObject({ code: 1007, reason: 'protocol_error', error_code: 'WS_ERR_INVALID_UTF8' });
    expect(abuse.err).toBeUndefined();
    expect(JSON.stringify(abuse)).not.toContain('    at ');
    expect(metricValue(await t.metrics(), 'ws_connections_closed_total', { path: '/r', transport: 'ws', code: '1007' })).toBe(1);
  });

  it('records 4429 for a flooder that does not read, stops parsing its frames, and terminates it within the grace period', async () => {
    const flooder = await connect(`${t.wsUrl}/r`);
    const traceId = flooder.upgradeHeaders['x-trace-id'] as string;
    // It never reads: the server's close frame and replies pile up unread.
    (flooder.ws as unknown as { _socket: Socket })._socket.pause();
    const before = metricValue(await t.metrics(), 'ws_messages_received_total', { path: '/r', transport: 'ws', event: 'echo' });
    const frame = JSON.stringify({ event: 'echo', data: 'x' });
    // Bounded: 20,000 frames, written as fast as the socket takes them.
    for (let i = 0; i < 20_000 && flooder.ws.readyState === flooder.ws.OPEN; i++) flooder.ws.send(frame);
    const decided = await logs.waitFor({ msg: 'ws.closed_for_abuse', connection_trace_id: traceId, reason: 'rate_limit' }, 10_000);
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: traceId }, 10_000);
    expect(gone).toMatchObject({ code: 4429, closed_by: 'policy' });
    // Terminated after the 1 s grace, not ws's 30 s close timeout.
    expect((gone.time as number) - (decided.time as number)).toBeLessThan(3000);
    // Frames after the decision were not handled: about the burst plus the refusals before it.
    const handled = metricValue(await t.metrics(), 'ws_messages_received_total', { path: '/r', transport: 'ws', event: 'echo' }) - before;
    expect(handled).toBeLessThan(200);
    expect(gone.messages_in as number).toBeLessThan(500);
    expect(metricValue(await t.metrics(), 'ws_connections_closed_total', { path: '/r', transport: 'ws', code: '4429' })).toBe(1);
  });

  it('records who closed: the client (1000) and the network (1006)', async () => {
    const polite = await connect(`${t.wsUrl}/r`);
    await polite.close();
    expect(await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: polite.upgradeHeaders['x-trace-id'] })).toMatchObject({ code: 1000, closed_by: 'client' });
    const dropped = await connect(`${t.wsUrl}/r`);
    dropped.ws.terminate();
    expect(await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: dropped.upgradeHeaders['x-trace-id'] })).toMatchObject({ code: 1006, closed_by: 'network' });
  });
});
