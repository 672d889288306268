import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway } from '@tracing-ws/nestjs';
import { startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/msg' })
class MessagesGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

describe('traced messages: span and metrics', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startApp({ gateways: [MessagesGateway] });
    url = `${t.wsUrl}/msg`;
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('exports a CONSUMER span "process <event>" with the event and connection id', async () => {
    const socket = await connect(url);
    try {
      const reply = await socket.request('echo', { a: 1 }, 'echo', { id: 'm-1' });
      expect(reply.meta).toEqual({ id: 'm-1', traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      const span = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === reply.meta!.traceId);
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.attributes).toMatchObject({
        'messaging.system': 'websocket',
        'messaging.destination.name': 'echo',
        'messaging.message.id': 'm-1',
        'ws.connection.trace_id': socket.upgradeHeaders['x-trace-id'],
      });
      expect(span.attributes['ws.connection.id']).toMatch(/^[0-9a-f-]{36}$/);
      // Its own trace, linked to the handshake span of the connection.
      expect(span.links[0]?.context.traceId).toBe(socket.upgradeHeaders['x-trace-id']);
    } finally {
      await socket.close();
    }
  });

  it('moves the active gauge and the received counter on /metrics', async () => {
    const labels = { path: '/msg' };
    const before = await t.metrics();
    const a = await connect(url);
    const b = await connect(url);
    const during = await t.metrics();
    expect(metricValue(during, 'ws_connections_active', labels) - metricValue(before, 'ws_connections_active', labels)).toBe(2);
    for (let i = 0; i < 5; i++) await a.request('echo', i);
    await b.request('echo', 'x');
    await a.close();
    await b.close();
    const after = await waitFor(async () => {
      const text = await t.metrics();
      return metricValue(text, 'ws_connections_active', labels) === metricValue(before, 'ws_connections_active', labels) && text;
    }, 5000, 'the gauge back to its start');
    const received = (text: string) => metricValue(text, 'ws_messages_received_total', { ...labels, event: 'echo' });
    expect(received(after) - received(before)).toBe(6);
    expect(metricValue(after, 'ws_connections_opened_total', labels) - metricValue(before, 'ws_connections_opened_total', labels)).toBe(2);
    expect(metricValue(after, 'ws_connections_closed_total', { ...labels, code: '1000' }) - metricValue(before, 'ws_connections_closed_total', { ...labels, code: '1000' })).toBe(2);
  });
});
