import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, type WsAuthRequest } from '@tracing-ws/nestjs';
import { metricValue, seriesOf } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { accepted, CONFORMANCE_PATH, errorData, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class TelemetryGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('fail')
  fail(): never {
    throw new Error('boom');
  }
}

const USERS: Record<string, string> = { 'alice-token': 'alice', 'bob-token': 'bob' };
const authenticate = ({ token }: WsAuthRequest) => (USERS[token] ? { id: USERS[token]! } : null);

/** Label names a `ws_*` series may carry: none of them takes client text. */
const BOUNDED_LABELS = new Set(['path', 'transport', 'event', 'code', 'reason', 'outcome', 'direction', 'le']);

describe.each(TRANSPORTS)('telemetry over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [TelemetryGateway], options: { authenticate } });
  });
  afterAll(() => app.close());

  it('records one CONSUMER span "process <event>" per message, with messaging, connection and user attributes, linked to the handshake span', async () => {
    const client = accepted(await app.connect({ token: 'alice-token' }));
    try {
      const connected = await app.logs.waitFor({ msg: 'ws.connected', connection_trace_id: client.traceId });
      const handshake = await app.waitForSpan((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === client.traceId);
      const replies = [];
      for (let i = 0; i < 3; i++) replies.push(await client.request('echo', i, { meta: { id: `e-${i}` } }));
      for (const [i, reply] of replies.entries()) {
        const traceId = reply.meta?.traceId;
        await app.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === traceId);
        const spans = app.spans().filter((s) => s.spanContext().traceId === traceId);
        expect(spans).toHaveLength(1);
        const span = spans[0]!;
        expect(span.kind).toBe(SpanKind.CONSUMER);
        expect(span.attributes).toMatchObject({
          'messaging.system': harness.messagingSystem,
          'messaging.operation.type': 'process',
          'messaging.destination.name': 'echo',
          'messaging.message.id': `e-${i}`,
          'ws.connection.id': connected.connection_id,
          'ws.path': app.gatewayLabels.path,
          'enduser.id': 'alice',
        });
        expect(span.links.map((l) => l.context.spanId)).toEqual([handshake.spanContext().spanId]);
      }
      expect(new Set(replies.map((r) => r.meta?.traceId)).size).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('records how the session ended on its trace: a close span, child of and linked to the handshake span, with code, initiator, duration and counts', async () => {
    const client = accepted(await app.connect({ token: 'alice-token' }));
    const handshake = await app.waitForSpan((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === client.traceId);
    await client.request('echo', 'one');
    await client.request('echo', 'two');
    await client.close();
    const close = await app.waitForSpan((s) => s.name === 'close' && s.spanContext().traceId === client.traceId);
    expect(close.parentSpanContext?.spanId).toBe(handshake.spanContext().spanId);
    expect(close.links.map((l) => l.context.spanId)).toEqual([handshake.spanContext().spanId]);
    expect(close.attributes).toMatchObject({
      'ws.close.code': 1000,
      'ws.close.initiator': 'client',
      'ws.session.messages_in': 2,
      'ws.session.messages_out': 2,
      'ws.connection.id': handshake.attributes['ws.connection.id'],
      'enduser.id': 'alice',
      'messaging.system': harness.messagingSystem,
    });
    expect(close.attributes['ws.session.duration']).toBeGreaterThan(0);
    expect(close.attributes['ws.session.bytes_in']).toBeGreaterThan(0);
    expect(typeof close.attributes['ws.close.reason']).toBe('string');
  });

  it('writes ws.connected, ws.message_failed and ws.disconnected with the trace, connection and user ids', async () => {
    const client = accepted(await app.connect({ token: 'bob-token' }));
    const connected = await app.logs.waitFor({ msg: 'ws.connected', connection_trace_id: client.traceId });
    expect(connected).toMatchObject({ trace_id: client.traceId, user_id: 'bob', connection_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const connectionId = connected.connection_id;

    const error = errorData(await client.request('fail', null));
    const failed = await app.logs.waitFor({ msg: 'ws.message_failed', trace_id: error.traceId });
    expect(failed).toMatchObject({ connection_id: connectionId, connection_trace_id: client.traceId, user_id: 'bob', event: 'fail', error_code: 'INTERNAL' });

    await client.close();
    const disconnected = await app.logs.waitFor({ msg: 'ws.disconnected', connection_id: connectionId });
    expect(disconnected).toMatchObject({ trace_id: client.traceId, connection_trace_id: client.traceId, user_id: 'bob', messages_in: 1 });
  });

  it('counts open connections, received messages and error frames on /metrics', async () => {
    const gateway = app.gatewayLabels;
    const before = await app.metrics();
    const a = accepted(await app.connect({ token: 'alice-token' }));
    const b = accepted(await app.connect({ token: 'bob-token' }));
    const during = await app.metrics();
    expect(metricValue(during, 'ws_connections_active', gateway) - metricValue(before, 'ws_connections_active', gateway)).toBe(2);
    for (let i = 0; i < 3; i++) await a.request('echo', i);
    await b.request('echo', 'b');
    errorData(await b.request('fail', null));
    await a.close();
    await b.close();
    const after = await waitFor(async () => {
      const text = await app.metrics();
      return metricValue(text, 'ws_connections_active', gateway) === metricValue(before, 'ws_connections_active', gateway) && text;
    }, 5000, 'the active gauge back to where it was');
    const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('ws_messages_received_total', { ...gateway, event: 'echo' })).toBe(4);
    expect(delta('ws_messages_received_total', { ...gateway, event: 'fail' })).toBe(1);
    expect(delta('ws_message_errors_total', { ...gateway, event: 'fail', code: 'INTERNAL' })).toBe(1);
  });

  it('keeps metric labels bounded: unknown event names add no series and no client text', async () => {
    const client = accepted(await app.connect({ token: 'alice-token' }));
    try {
      // The fixed series of unknown events exist once the first one is answered.
      errorData(await client.request('first-unknown', null));
      const before = seriesOf(await app.metrics(), 'ws_');
      expect(before.length).toBeGreaterThan(10);
      // 15: under the default invalid-frame limit (20 per 10 s), which would close the connection.
      for (let i = 0; i < 15; i++) client.send(`evt-${i}-${Math.random()}`, null);
      for (let i = 0; i < 15; i++) expect(errorData(await client.next('error')).code).toBe('UNKNOWN_EVENT');
      const text = await app.metrics();
      expect(text).not.toContain('evt-');
      expect(seriesOf(text, 'ws_')).toEqual(before);
      for (const series of seriesOf(text, 'ws_')) {
        for (const [, label] of series.matchAll(/([a-zA-Z_]+)="/g)) expect(BOUNDED_LABELS).toContain(label);
      }
    } finally {
      await client.close();
    }
  });
});
