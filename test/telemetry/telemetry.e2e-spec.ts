import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Param } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { TracedGateway, TracingWsModule, WsForceSampler, type WsAuthRequest } from '@tracing-ws/nestjs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue, seriesOf } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect, upgrade } from '../support/ws-client.js';

/** A real downstream HTTP service that records the headers it receives. */
const downstream: { server?: Server; url?: string; seen: IncomingHttpHeaders[] } = { seen: [] };

@TracedGateway()
@WebSocketGateway({ path: '/t' })
class TelemetryGateway {
  @SubscribeMessage('echo')
  echo(_c: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('lookup')
  async lookup(_c: unknown, data: { id: string }) {
    const res = await fetch(`${downstream.url}/items/${encodeURIComponent(data.id)}`);
    return { event: 'lookup', data: await res.json() };
  }

  @SubscribeMessage('fail')
  fail(): never {
    throw new Error('boom');
  }
}

@Controller()
class ItemsController {
  @Get('items/:id')
  item(@Param('id') id: string) {
    return { id };
  }
}

const users: Record<string, string> = { 'alice-token': 'alice', 'bob-token': 'bob', 'carol-token': 'carol' };
const authenticate = ({ token }: WsAuthRequest) => (users[token] ? { id: users[token]! } : null);

// Sample nothing by ratio: only force-sampled sessions and client-sampled traces record.
const sampler = new WsForceSampler({ delegate: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }), userIds: ['alice'] });
const telemetry = new TestTelemetry({ sampler, instrumentations: [new UndiciInstrumentation()] }).start();

describe('telemetry in depth', () => {
  let t: TestApp;
  let conn: TestApp;

  beforeAll(async () => {
    downstream.server = createServer((req, res) => {
      downstream.seen.push(req.headers);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => downstream.server!.listen(0, '127.0.0.1', r));
    downstream.url = `http://127.0.0.1:${(downstream.server.address() as AddressInfo).port}`;
    t = await startApp({
      gateways: [TelemetryGateway],
      controllers: [ItemsController],
      tracing: {
        authenticate,
        // The flood test below sends 10,000 unknown events from one socket.
        invalidFrames: { max: 0 },
        rateLimit: { messagesPerSecond: 0 },
        logPayloadMaxLength: 16,
        allowForceSampling: (user) => user?.id === 'bob',
        onMessageSpan: (span, { event, data }) => {
          if (event === 'fail') throw new Error('hook bug');
          span.setAttribute('app.item_id', String((data as { id?: string } | null)?.id ?? ''));
        },
      },
    });
  });
  afterAll(async () => {
    await conn?.close();
    await t.close();
    await new Promise((r) => downstream.server!.close(r));
    await telemetry.shutdown();
  });

  describe('handshake span', () => {
    it('is a SERVER span "GET <path>" ending at the 101 with status, client address, user agent and connection id', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token', 'user-agent': 'tests/1.0' } });
      const traceId = socket.upgradeHeaders['x-trace-id'];
      // alice is force-sampled by user id: her handshake span records although the ratio is 0.
      const span = await telemetry.waitForSpan((s) => s.name === 'GET /t' && s.spanContext().traceId === traceId);
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.attributes).toMatchObject({
        'http.response.status_code': 101,
        'client.address': '127.0.0.1',
        'user_agent.original': 'tests/1.0',
        'enduser.id': 'alice',
      });
      const connected = await logs.waitFor({ msg: 'ws.connected', connection_trace_id: traceId });
      expect(span.attributes['ws.connection.id']).toBe(connected.connection_id);
      expect(connected).toMatchObject({ remote_address: '127.0.0.1', user_agent: 'tests/1.0' });
      await socket.close();
    });

    it('ends with the status and reason on a refusal', async () => {
      const res = await upgrade(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer wrong', 'x-trace-id': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' } });
      expect(res.status).toBe(401);
      expect(res.headers['x-trace-id']).toBe('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
      const span = await telemetry.waitForSpan((s) => s.name === 'GET /t' && s.spanContext().traceId === 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
      expect(span.attributes).toMatchObject({ 'http.response.status_code': 401, 'ws.handshake.rejection_reason': 'invalid_credentials' });
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      const line = await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
      expect(line).toMatchObject({ reason: 'invalid_credentials', status: 401 });
    });
  });

  describe('message spans (trace mode "message")', () => {
    it('continue a frame meta.traceparent as the parent', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer carol-token' } });
      const reply = await socket.request('echo', 1, 'echo', { traceparent: '00-11111111111111111111111111111111-2222222222222222-01' });
      expect(reply.meta?.traceId).toBe('11111111111111111111111111111111');
      const span = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === '11111111111111111111111111111111');
      expect(span.parentSpanContext?.spanId).toBe('2222222222222222');
      expect(span.attributes).toMatchObject({ 'messaging.operation.type': 'process', 'messaging.message.body.size': expect.any(Number), 'enduser.id': 'carol' });
      await socket.close();
    });

    it('start a new trace per message otherwise, linked to the handshake span', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const a = await socket.request('echo', 1);
      const b = await socket.request('echo', 2);
      expect(a.meta?.traceId).not.toBe(b.meta?.traceId);
      const span = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === b.meta?.traceId);
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links.map((l) => l.context.traceId)).toEqual([socket.upgradeHeaders['x-trace-id']]);
      await socket.close();
    });

    it('propagate to downstream HTTP: fetch sends a traceparent of the message span trace', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const reply = await socket.request('lookup', { id: 'x7' });
      expect(reply.data).toEqual({ ok: true });
      const header = downstream.seen.at(-1)?.traceparent as string;
      expect(header.split('-')[1]).toBe(reply.meta?.traceId);
      const span = await telemetry.waitForSpan((s) => s.name === 'process lookup' && s.spanContext().traceId === reply.meta?.traceId);
      // The user hook extended the span.
      expect(span.attributes['app.item_id']).toBe('x7');
      await socket.close();
    });

    it('record ERROR with the exception on failure; a throwing span hook is logged and handling goes on', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const frame = await socket.request('fail', null);
      expect(frame.data.code).toBe('INTERNAL');
      const span = await telemetry.waitForSpan((s) => s.name === 'process fail' && s.spanContext().traceId === frame.data.traceId);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events[0]?.attributes?.['exception.message']).toBe('boom');
      const hook = await logs.waitFor({ msg: 'ws.hook_failed', hook: 'onMessageSpan' });
      expect(hook.event).toBe('fail');
      await socket.close();
    });
  });

  describe('sampling', () => {
    it('does not record an unsampled session, yet a failed message logs its trace id', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer carol-token' } });
      const frame = await socket.request('fail', null);
      const failed = await logs.waitFor({ msg: 'ws.message_failed', trace_id: frame.data.traceId });
      expect(failed.trace_flags).toBe('00');
      expect(telemetry.spans().some((s) => s.spanContext().traceId === frame.data.traceId)).toBe(false);
      await socket.close();
    });

    it('force-samples a listed user and a user the app allows to ask, not others', async () => {
      const alice = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const bob = await connect(`${t.wsUrl}/t?forceSample=1`, { headers: { authorization: 'Bearer bob-token' } });
      const carol = await connect(`${t.wsUrl}/t?forceSample=1`, { headers: { authorization: 'Bearer carol-token' } });
      const [a, b, c] = [await alice.request('echo', 1), await bob.request('echo', 1), await carol.request('echo', 1)];
      await telemetry.waitForSpan((s) => s.spanContext().traceId === a.meta?.traceId);
      const bobSpan = await telemetry.waitForSpan((s) => s.spanContext().traceId === b.meta?.traceId);
      expect(bobSpan.attributes['ws.force_sample']).toBe(true);
      // carol asked, but the app's hook only allows bob.
      const carolLine = await logs.waitFor({ msg: 'ws.message_handled', trace_id: c.meta?.traceId });
      expect(carolLine.trace_flags).toBe('00');
      expect(telemetry.spans().some((s) => s.spanContext().traceId === c.meta?.traceId)).toBe(false);
      await Promise.all([alice.close(), bob.close(), carol.close()]);
    });
  });

  describe('logs', () => {
    it('put trace, span, connection, user and event fields on message lines, consistent with the span', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const reply = await socket.request('echo', { long: 'x'.repeat(100) });
      const span = await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === reply.meta?.traceId);
      const line = await logs.waitFor({ msg: 'ws.message_handled', trace_id: reply.meta?.traceId });
      expect(line).toMatchObject({
        span_id: span.spanContext().spanId,
        trace_flags: '01',
        connection_id: span.attributes['ws.connection.id'],
        connection_trace_id: socket.upgradeHeaders['x-trace-id'],
        user_id: 'alice',
        event: 'echo',
        outcome: 'ok',
        level: 20,
      });
      // Payload logging is opt-in and truncated.
      expect(line.payload).toBe('{"event":"echo",');
      await socket.close();
      const closed = await logs.waitFor({ msg: 'ws.disconnected', connection_id: line.connection_id });
      expect(closed).toMatchObject({ code: 1000, messages_in: 1, messages_out: 1 });
      expect(closed.bytes_in).toBeGreaterThan(100);
      expect(typeof closed.duration_ms).toBe('number');
    });
  });

  describe('metrics', () => {
    it('count exactly under concurrency: N clients × M messages, gauge back to 0', async () => {
      const before = await t.metrics();
      const N = 20;
      const M = 25;
      const clients = await Promise.all(Array.from({ length: N }, () => connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer carol-token' } })));
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < M; i++) c.send('echo', i);
          for (let i = 0; i < M; i++) await c.next((f) => f.event === 'echo');
        }),
      );
      await Promise.all(clients.map((c) => c.close()));
      const after = await waitFor(async () => {
        const text = await t.metrics();
        return metricValue(text, 'ws_connections_active', { path: '/t' }) === 0 && text;
      }, 5000, 'the active gauge at 0');
      const delta = (name: string, labels: Record<string, string>) => metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(delta('ws_messages_received_total', { path: '/t', event: 'echo' })).toBe(N * M);
      expect(delta('ws_messages_sent_total', { path: '/t', event: 'echo' })).toBe(N * M);
      expect(delta('ws_message_duration_seconds_count', { path: '/t', event: 'echo', outcome: 'ok' })).toBe(N * M);
      expect(delta('ws_connections_closed_total', { path: '/t', code: '1000' })).toBe(N);
    });

    it('add no series for a flood of 10,000 distinct event names', async () => {
      const socket = await connect(`${t.wsUrl}/t`, { headers: { authorization: 'Bearer carol-token' } });
      // The fixed series for unknown events (errors sent, error code) exist after the first one.
      await socket.request('first-unknown', null, 'error');
      const before = seriesOf(await t.metrics(), 'ws_').length;
      for (let i = 0; i < 10000; i++) socket.send(`evt-${i}-${Math.random()}`, null);
      for (let i = 0; i < 10000; i++) await socket.next((f) => f.event === 'error' && f.data.code === 'UNKNOWN_EVENT');
      const text = await t.metrics();
      expect(text).not.toContain('evt-');
      expect(metricValue(text, 'ws_messages_received_total', { path: '/t', event: 'unknown' })).toBeGreaterThanOrEqual(10000);
      await socket.close();
      expect(seriesOf(await t.metrics(), 'ws_').length).toBe(before);
    });

    it('record HTTP durations by route template, never the raw URL', async () => {
      await fetch(`${t.httpUrl}/items/abc123`);
      await fetch(`${t.httpUrl}/nope/zzz999`);
      const text = await t.metrics();
      expect(metricValue(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/items/:id', status: '200' })).toBe(1);
      expect(metricValue(text, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
      expect(text).not.toContain('abc123');
      expect(text).not.toContain('zzz999');
    });

    it('register metrics once however often the module is compiled', async () => {
      conn = await startApp({ gateways: [TelemetryGateway], tracingModule: TracingWsModule.forRoot({ traceMode: 'connection', authenticate }) });
      expect(await conn.metrics()).toContain('ws_connections_active');
    });
  });

  describe('trace mode "connection"', () => {
    it('makes every message span a child of the handshake span: one trace id for the session', async () => {
      const socket = await connect(`${conn.wsUrl}/t`, { headers: { authorization: 'Bearer alice-token' } });
      const session = socket.upgradeHeaders['x-trace-id'];
      const a = await socket.request('echo', 1);
      const b = await socket.request('echo', 2);
      expect(a.meta?.traceId).toBe(session);
      expect(b.meta?.traceId).toBe(session);
      const handshake = await telemetry.waitForSpan((s) => s.name === 'GET /t' && s.spanContext().traceId === session);
      const spans = await waitFor(() => {
        const found = telemetry.spans().filter((s) => s.name === 'process echo' && s.spanContext().traceId === session);
        return found.length === 2 && found;
      }, 5000, 'two message spans in the session trace');
      for (const s of spans) expect(s.parentSpanContext?.spanId).toBe(handshake.spanContext().spanId);
      await socket.close();
    });
  });
});
