import { expect, it } from '@jest/globals';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import { connect, upgrade } from '../support/ws-client.js';
import type { ScratchConsumer } from './consumer.js';

/** What the consumer's GET /test/spans returns for one span. */
interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  status: { code: number };
  attributes: Record<string, unknown>;
}

const TRACE_ID = /^[0-9a-f]{32}$/;
/** SpanKind.CONSUMER and SpanStatusCode.ERROR of @opentelemetry/api. */
const CONSUMER = 4;
const ERROR = 2;

/**
 * What an app gets from the packed libraries, checked over real sockets against
 * a consumer from compat/ (its gateway is compat/<name>/src/probe.gateway.ts):
 * the handshake guard, the CLS context, spans, metrics, error frames, and the
 * client library loaded by the consumer's own module system.
 */
export function focusedSuite(consumer: () => ScratchConsumer): void {
  const app = () => consumer().app!;
  const bearer = { headers: { authorization: 'Bearer alice-token' } };

  it('rejects an upgrade without a token with 401 and an X-Trace-ID', async () => {
    const res = await upgrade(`${app().wsUrl}/ws`);
    expect(res.status).toBe(401);
    expect(res.headers['x-trace-id']).toMatch(TRACE_ID);
  });

  it('accepts a token with 101 and echoes the supplied X-Trace-ID', async () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await upgrade(`${app().wsUrl}/ws`, { headers: { ...bearer.headers, 'x-trace-id': id } });
    try {
      expect(res.status).toBe(101);
      expect(res.headers['x-trace-id']).toBe(id);
    } finally {
      res.socket?.close();
    }
  });

  it('gives a handler the connection and message from the CLS context, and logs with its trace id', async () => {
    const id = '0af7651916cd43dd8448eb211c80319c';
    const socket = await connect(`${app().wsUrl}/ws`, { headers: { ...bearer.headers, 'x-trace-id': id } });
    try {
      const reply = await socket.request('whoami', {}, 'whoami', { id: 'w-1' });
      expect(reply.meta).toEqual({ id: 'w-1', traceId: expect.stringMatching(TRACE_ID) });
      expect(reply.data).toEqual({ user: 'alice', injectedUser: 'alice', traceId: reply.meta!.traceId, connectionTraceId: id, connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      const line = await app().waitForLog({ msg: 'probe.whoami', trace_id: reply.meta!.traceId });
      expect(line).toMatchObject({ name: `compat-${consumer().name}`, connection_id: reply.data.connectionId, user_id: 'alice' });
      // The library's own lines go through the app's pino logger (its name, level, redaction).
      const connected = await app().waitForLog({ msg: 'ws.connected', connection_trace_id: id });
      expect(connected).toMatchObject({ name: `compat-${consumer().name}`, connection_id: reply.data.connectionId, user_id: 'alice' });
    } finally {
      await socket.close();
    }
  });

  it('exports a CONSUMER span for each traced message', async () => {
    const socket = await connect(`${app().wsUrl}/ws`, bearer);
    try {
      const reply = await socket.request('whoami', {});
      const span = await waitFor(
        async () => {
          const spans = (await (await fetch(`${app().httpUrl}/test/spans`)).json()) as ExportedSpan[];
          return spans.find((s) => s.name === 'process whoami' && s.traceId === reply.meta!.traceId);
        },
        5000,
        'the span of the whoami message',
      );
      expect(span.kind).toBe(CONSUMER);
      expect(span.attributes).toMatchObject({ 'messaging.system': 'websocket', 'messaging.destination.name': 'whoami', 'enduser.id': 'alice' });
    } finally {
      await socket.close();
    }
  });

  it('turns a thrown error into an INTERNAL error frame with the trace id, an error span and a metric', async () => {
    const socket = await connect(`${app().wsUrl}/ws`, bearer);
    try {
      const frame = await socket.request('explode', null, 'explode', { id: 'x-1' });
      expect(frame.event).toBe('error');
      expect(frame.data).toEqual({ code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(TRACE_ID), retryable: false });
      expect(frame.meta).toEqual({ id: 'x-1', traceId: frame.data.traceId });
      expect(JSON.stringify(frame)).not.toContain('secret');
      const span = await waitFor(
        async () => {
          const spans = (await (await fetch(`${app().httpUrl}/test/spans`)).json()) as ExportedSpan[];
          return spans.find((s) => s.name === 'process explode' && s.traceId === frame.data.traceId);
        },
        5000,
        'the span of the explode message',
      );
      expect(span.status.code).toBe(ERROR);
      const metrics = await (await fetch(`${app().httpUrl}/metrics`)).text();
      expect(metricValue(metrics, 'ws_message_errors_total', { path: '/ws', event: 'explode', code: 'INTERNAL' })).toBe(1);
      // Still serving.
      expect((await socket.request('whoami', {})).data.user).toBe('alice');
    } finally {
      await socket.close();
    }
  });

  it('serves the ws_ metrics on /metrics', async () => {
    const scrape = async () => (await fetch(`${app().httpUrl}/metrics`)).text();
    const labels = { path: '/ws' };
    const before = await scrape();
    const socket = await connect(`${app().wsUrl}/ws`, bearer);
    await socket.request('whoami', {});
    await socket.close();
    const after = await waitFor(
      async () => {
        const text = await scrape();
        return metricValue(text, 'ws_connections_closed_total', { ...labels, code: '1000' }) > metricValue(before, 'ws_connections_closed_total', { ...labels, code: '1000' }) && text;
      },
      5000,
      'the close to be counted',
    );
    const delta = (name: string, l: Record<string, string>) => metricValue(after, name, l) - metricValue(before, name, l);
    expect(delta('ws_connections_opened_total', labels)).toBe(1);
    expect(delta('ws_messages_received_total', { ...labels, event: 'whoami' })).toBe(1);
    expect(metricValue(after, 'ws_handshake_rejections_total', { ...labels, reason: 'missing_credentials' })).toBeGreaterThanOrEqual(1);
  });

  it('works with the packed client library, loaded by the consumer’s own module system', async () => {
    const out = JSON.parse(await consumer().node('client-check.js', [`${app().wsUrl}/ws`])) as { user: string; connectionTraceId: string; error?: { code: string; traceId?: string } };
    expect(out.user).toBe('alice');
    expect(out.connectionTraceId).toMatch(TRACE_ID);
    expect(out.error).toEqual({ code: 'INTERNAL', traceId: expect.stringMatching(TRACE_ID) });
  });
}
