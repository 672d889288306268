import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WsAdapter } from '@nestjs/platform-ws';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { connect } from '../../support/ws-client.js';
import { byoGateway, DenyGuard, type SeenContext } from './byo.gateway.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

describe('WsTracingInterceptor on a stock WsAdapter (@nestjs/platform-ws)', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await startApp({
      gateways: [byoGateway({ path: '/byo/' })],
      providers: [DenyGuard],
      tracing: { messageLogLevel: 'info' },
      adapter: (app) => new WsAdapter(app),
    });
    url = `${t.wsUrl}/byo`;
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  it('traces each message with a process span and gives its handler the CLS context across an await', async () => {
    const socket = await connect(url);
    try {
      const first = await socket.request('whoami', null);
      const second = await socket.request('whoami', null);
      const seen = first.data as { before: SeenContext; after: SeenContext };
      expect(seen.after).toEqual(seen.before);
      expect(first.data.injected).toBe(seen.before.connectionId);
      expect(seen.before).toEqual({ connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), connectionTraceId: expect.stringMatching(TRACE_ID), traceId: first.meta!.traceId, event: 'whoami', spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
      // One connection context per client, made at its first message and kept.
      expect(second.data.before.connectionId).toBe(seen.before.connectionId);
      expect(second.data.before.connectionTraceId).toBe(seen.before.connectionTraceId);
      expect(second.meta!.traceId).not.toBe(first.meta!.traceId);

      const span = await telemetry.waitForSpan((s) => s.name === 'process whoami' && s.spanContext().traceId === first.meta!.traceId);
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.spanContext().spanId).toBe(seen.before.spanId);
      expect(span.attributes).toEqual({
        'messaging.system': 'websocket',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': 'whoami',
        'ws.connection.id': seen.before.connectionId,
        'ws.connection.trace_id': seen.before.connectionTraceId,
        'ws.path': '/byo',
      });
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    } finally {
      await socket.close();
    }
  });

  it('logs ws.message_handled with trace_id, span_id and connection_id, and counts the messages under the gateway path', async () => {
    const socket = await connect(url);
    try {
      const reply = await socket.request('whoami', null);
      const { connectionId, spanId } = reply.data.before as SeenContext;
      const line = await logs.waitFor({ msg: 'ws.message_handled', trace_id: reply.meta!.traceId });
      expect(line).toMatchObject({ level: 30, span_id: spanId, connection_id: connectionId, event: 'whoami', path: '/byo', outcome: 'ok', trace_flags: '01' });
      expect(line.duration_ms).toEqual(expect.any(Number));
    } finally {
      await socket.close();
    }
    const text = await t.metrics();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/byo', transport: 'ws', event: 'whoami' })).toBe(3);
    expect(metricValue(text, 'ws_messages_sent_total', { path: '/byo', transport: 'ws', event: 'whoami' })).toBe(3);
    expect(metricValue(text, 'ws_message_duration_seconds_count', { path: '/byo', transport: 'ws', event: 'whoami', outcome: 'ok' })).toBe(3);
  });

  it('answers a thrown error with an INTERNAL error frame carrying the span\'s trace id, never the error\'s text', async () => {
    const socket = await connect(url);
    try {
      const frame = await socket.request('explode', null);
      expect(frame).toEqual({
        event: 'error',
        data: { code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(TRACE_ID), retryable: false },
        meta: { traceId: frame.data.traceId },
      });
      expect(JSON.stringify(frame)).not.toContain('10.1.2.3');
      const span = await telemetry.waitForSpan((s) => s.name === 'process explode' && s.spanContext().traceId === frame.data.traceId);
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
      expect(span.events.map((e) => e.name)).toContain('exception');
      const failed = await logs.waitFor({ msg: 'ws.message_failed', trace_id: frame.data.traceId });
      expect(failed).toMatchObject({ level: 50, error_code: 'INTERNAL', event: 'explode', span_id: span.spanContext().spanId });
      expect((failed.err as { stack: string }).stack).toContain('secret internal detail');
      await logs.waitFor({ msg: 'ws.message_handled', trace_id: frame.data.traceId, outcome: 'error' });

      const refused = await socket.request('refuse', null);
      expect(refused.data).toMatchObject({ code: 'BAD_REQUEST', message: 'room is full', retryable: false });
      // Still serving.
      expect((await socket.request('whoami', null)).event).toBe('whoami');
    } finally {
      await socket.close();
    }
    const text = await t.metrics();
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'ws', event: 'explode', code: 'INTERNAL' })).toBe(1);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'ws', event: 'refuse', code: 'BAD_REQUEST' })).toBe(1);
    expect(metricValue(text, 'ws_message_duration_seconds_count', { path: '/byo', transport: 'ws', event: 'explode', outcome: 'error' })).toBe(1);
    expect(metricValue(text, 'ws_messages_sent_total', { path: '/byo', transport: 'ws', event: 'error' })).toBe(2);
  });

  it('records and answers a guard\'s refusal, which the interceptor never sees, through @TracedGateway()\'s filter', async () => {
    const socket = await connect(url);
    try {
      const reply = await socket.request('whoami', null);
      const { connectionId, connectionTraceId } = reply.data.before as SeenContext;
      const frame = await socket.request('guarded', null);
      expect(frame).toEqual({ event: 'error', data: { code: 'FORBIDDEN', message: 'Forbidden resource', traceId: connectionTraceId, retryable: false }, meta: { traceId: connectionTraceId } });
      const line = await logs.waitFor({ msg: 'ws.message_failed', event: 'guarded', connection_id: connectionId });
      expect(line).toMatchObject({ level: 30, error_code: 'FORBIDDEN', error_message: 'Forbidden resource', trace_id: connectionTraceId, path: '/byo', transport: 'ws' });
    } finally {
      await socket.close();
    }
    const text = await t.metrics();
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'ws', event: 'guarded', code: 'FORBIDDEN' })).toBe(1);
    expect(metricValue(text, 'ws_messages_received_total', { path: '/byo', transport: 'ws', event: 'guarded' })).toBe(1);
    expect(telemetry.spans().filter((s) => s.name === 'process guarded')).toEqual([]);
  });
});
