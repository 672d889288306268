import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { WsTracingInterceptor } from '@tracing-ws/nestjs';
import { io, type Socket } from 'socket.io-client';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { byoGateway, DenyGuard, type SeenContext } from './byo.gateway.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;

/** The arguments of the first `event` the socket receives, or a failure after `timeoutMs`. */
function nextEventArgs(socket: Socket, event: string, timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    socket.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** The first argument of the first `event` the socket receives. */
async function nextEvent<T>(socket: Socket, event: string, timeoutMs = 5000): Promise<T> {
  return (await nextEventArgs(socket, event, timeoutMs))[0] as T;
}

type Whoami = { before: SeenContext; after: SeenContext; injected?: string };

describe('WsTracingInterceptor on a stock IoAdapter (@nestjs/platform-socket.io)', () => {
  const telemetry = new TestTelemetry().start();
  const sockets: Socket[] = [];
  let t: TestApp;

  async function connect(options: { auth?: Record<string, string>; extraHeaders?: Record<string, string> } = {}): Promise<Socket> {
    const socket = io(`${t.httpUrl}/byo`, { transports: ['websocket'], forceNew: true, reconnection: false, ...options });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no connect within 5000 ms')), 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return socket;
  }

  async function whoami(socket: Socket): Promise<Whoami> {
    const reply = nextEvent<Whoami>(socket, 'whoami');
    socket.emit('whoami', {});
    return reply;
  }

  beforeAll(async () => {
    // Bound globally as well as on the gateway: the inner one finds the message traced and
    // passes it through (the counts below would double otherwise).
    t = await startApp({
      gateways: [byoGateway({ namespace: 'byo' })],
      providers: [DenyGuard, { provide: APP_INTERCEPTOR, useClass: WsTracingInterceptor }],
      tracing: { messageLogLevel: 'info' },
      adapter: (app) => new IoAdapter(app),
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t.close();
    await telemetry.shutdown();
  });

  it('traces each message with a process span linked to the handshake.auth traceparent, and gives its handler the CLS context across an await', async () => {
    const socket = await connect({ auth: { traceparent: TRACEPARENT } });
    const first = await whoami(socket);
    const second = await whoami(socket);
    expect(first.after).toEqual(first.before);
    expect(first.injected).toBe(first.before.connectionId);
    expect(first.before).toEqual({ connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), connectionTraceId: CLIENT_TRACE, traceId: expect.stringMatching(TRACE_ID), event: 'whoami', spanId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(second.before.connectionId).toBe(first.before.connectionId);
    expect(second.before.traceId).not.toBe(first.before.traceId);

    const span = await telemetry.waitForSpan((s) => s.name === 'process whoami' && s.spanContext().traceId === first.before.traceId);
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().spanId).toBe(first.before.spanId);
    expect(span.attributes).toEqual({
      'messaging.system': 'socket.io',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'whoami',
      'ws.connection.id': first.before.connectionId,
      'ws.connection.trace_id': CLIENT_TRACE,
      'ws.path': '/byo',
    });
    // Trace mode `message`: a trace of its own, linked to the client's span of the connection.
    expect(span.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([[CLIENT_TRACE, CLIENT_SPAN]]);
  });

  it('reads the connection trace id from a traceparent header too, and answers an acknowledgement inside the message trace', async () => {
    const socket = await connect({ extraHeaders: { traceparent: TRACEPARENT.replace(CLIENT_TRACE, 'a'.repeat(32)) } });
    const seen = await whoami(socket);
    expect(seen.before.connectionTraceId).toBe('a'.repeat(32));
    const ack = (await socket.timeout(5000).emitWithAck('echo', { n: 1 })) as { echoed: unknown; traceId: string };
    expect(ack).toEqual({ echoed: { n: 1 }, traceId: expect.stringMatching(TRACE_ID) });
    await telemetry.waitForSpan((s) => s.name === 'process echo' && s.spanContext().traceId === ack.traceId);
  });

  it('logs ws.message_handled with trace_id, span_id and connection_id, and counts the messages under the namespace', async () => {
    const socket = await connect();
    const seen = await whoami(socket);
    expect(seen.before.connectionTraceId).toMatch(TRACE_ID);
    const line = await logs.waitFor({ msg: 'ws.message_handled', trace_id: seen.before.traceId });
    expect(line).toMatchObject({ level: 30, span_id: seen.before.spanId, connection_id: seen.before.connectionId, connection_trace_id: seen.before.connectionTraceId, event: 'whoami', path: '/byo', outcome: 'ok' });
    const text = await t.metrics();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/byo', transport: 'socket.io', event: 'whoami' })).toBe(4);
    expect(metricValue(text, 'ws_messages_sent_total', { path: '/byo', transport: 'socket.io', event: 'whoami' })).toBe(4);
    expect(metricValue(text, 'ws_messages_sent_total', { path: '/byo', transport: 'socket.io', event: 'other' })).toBe(1);
    expect(metricValue(text, 'ws_message_duration_seconds_count', { path: '/byo', transport: 'socket.io', event: 'whoami', outcome: 'ok' })).toBe(4);
  });

  it('answers a thrown error on the acknowledgement with { error, $meta } and the span\'s trace id, never the error\'s text', async () => {
    const socket = await connect();
    const answer = (await socket.timeout(5000).emitWithAck('explode', {})) as { error: Record<string, unknown>; $meta: Record<string, unknown> };
    // As TracingIoAdapter answers: the error, and the server's meta under `$meta`.
    expect(answer).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(TRACE_ID), retryable: false }, $meta: { traceId: answer.error.traceId } });
    expect(JSON.stringify(answer)).not.toContain('10.1.2.3');
    const span = await telemetry.waitForSpan((s) => s.name === 'process explode' && s.spanContext().traceId === answer.error.traceId);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'INTERNAL' });
    const failed = await logs.waitFor({ msg: 'ws.message_failed', trace_id: answer.error.traceId });
    expect(failed).toMatchObject({ level: 50, error_code: 'INTERNAL', event: 'explode', path: '/byo' });
    expect((failed.err as { stack: string }).stack).toContain('secret internal detail');
  });

  it('emits exception with the error when the message has no acknowledgement', async () => {
    const socket = await connect();
    const exception = nextEventArgs(socket, 'exception');
    socket.emit('refuse', {});
    const [error, meta] = (await exception) as [Record<string, unknown>, unknown];
    expect(error).toEqual({ code: 'BAD_REQUEST', message: 'room is full', traceId: expect.stringMatching(TRACE_ID), retryable: false });
    expect(meta).toEqual({ $meta: { traceId: error.traceId } });
    await telemetry.waitForSpan((s) => s.name === 'process refuse' && s.spanContext().traceId === error.traceId);
    const text = await t.metrics();
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'socket.io', event: 'refuse', code: 'BAD_REQUEST' })).toBe(1);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'socket.io', event: 'explode', code: 'INTERNAL' })).toBe(1);
  });

  it('records and answers a guard\'s refusal on the acknowledgement, with the connection\'s trace id', async () => {
    const socket = await connect({ auth: { traceparent: TRACEPARENT } });
    const seen = await whoami(socket);
    const answer = (await socket.timeout(5000).emitWithAck('guarded', {})) as { error: Record<string, unknown>; $meta: Record<string, unknown> };
    expect(answer).toEqual({ error: { code: 'FORBIDDEN', message: 'Forbidden resource', traceId: CLIENT_TRACE, retryable: false }, $meta: { traceId: CLIENT_TRACE } });
    const line = await logs.waitFor({ msg: 'ws.message_failed', event: 'guarded', connection_id: seen.before.connectionId });
    expect(line).toMatchObject({ level: 30, error_code: 'FORBIDDEN', trace_id: CLIENT_TRACE, path: '/byo', transport: 'socket.io' });
    const text = await t.metrics();
    expect(metricValue(text, 'ws_message_errors_total', { path: '/byo', transport: 'socket.io', event: 'guarded', code: 'FORBIDDEN' })).toBe(1);
  });
});
