import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { WsTracingInterceptor } from '@tracing-ws/nestjs';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { io } from 'socket.io-client';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { waitFor } from '../../support/wait.js';
import { connect } from '../../support/ws-client.js';
import { byoGateway, DenyGuard } from './byo.gateway.js';

const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

describe('WsTracingInterceptor under TracingWsAdapter', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Bound twice, globally and on the gateway: the adapter has traced the message already.
    t = await startApp({
      gateways: [byoGateway({ path: '/both' })],
      providers: [DenyGuard, { provide: APP_INTERCEPTOR, useClass: WsTracingInterceptor }],
      tracing: { messageLogLevel: 'info' },
    });
  });
  afterAll(() => t.close());

  it('adds no second span, log line or metric to a message, and leaves the adapter\'s context in place', async () => {
    const socket = await connect(`${t.wsUrl}/both`);
    try {
      const replies = [];
      for (const id of ['m1', 'm2', 'm3']) replies.push(await socket.request('whoami', null, 'whoami', { id }));
      expect(replies.map((r) => r.meta!.id)).toEqual(['m1', 'm2', 'm3']);
      const connectionTraceId = socket.upgradeHeaders['x-trace-id'];
      for (const reply of replies) {
        expect(reply.data.before.traceId).toBe(reply.meta!.traceId);
        expect(reply.data.before.connectionTraceId).toBe(connectionTraceId);
      }
      await waitFor(() => logs.find({ msg: 'ws.message_handled', path: '/both' }).length >= 3, 5000, 'three message lines');
      const spans = await waitFor(() => {
        const found = telemetry.spans().filter((s) => s.name === 'process whoami');
        return found.length >= 3 && found;
      }, 5000, 'three message spans');
      expect(spans.map((s) => s.spanContext().traceId).sort()).toEqual(replies.map((r) => r.meta!.traceId).sort());
      // The adapter's span: it knows the frame's size and id, which the interceptor never sees.
      expect(spans.map((s) => s.attributes['messaging.message.id']).sort()).toEqual(['m1', 'm2', 'm3']);

      const frame = await socket.request('explode', null);
      expect(frame.data.code).toBe('INTERNAL');
      const denied = await socket.request('guarded', null);
      expect(denied.data.code).toBe('FORBIDDEN');
      expect((await socket.request('whoami', null)).event).toBe('whoami');
      expect(socket.frames).toEqual([]);
      await logs.waitFor({ msg: 'ws.message_handled', path: '/both', event: 'guarded' });
      expect(logs.find({ msg: 'ws.message_failed', path: '/both' }).map((l) => l.error_code).sort()).toEqual(['FORBIDDEN', 'INTERNAL']);
    } finally {
      await socket.close();
    }
    expect(telemetry.spans().filter((s) => s.name === 'process whoami')).toHaveLength(4);
    expect(logs.find({ msg: 'ws.message_handled', path: '/both' })).toHaveLength(6);
    const text = await t.metrics();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/both', transport: 'ws', event: 'whoami' })).toBe(4);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/both', transport: 'ws', event: 'explode', code: 'INTERNAL' })).toBe(1);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/both', transport: 'ws', event: 'guarded', code: 'FORBIDDEN' })).toBe(1);
  });

  it('leaves HTTP requests alone when bound globally', async () => {
    const res = await fetch(`${t.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ws_messages_received_total');
  });
});

describe('WsTracingInterceptor under TracingIoAdapter', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({
      gateways: [byoGateway({ namespace: '/both-io' })],
      providers: [DenyGuard, { provide: APP_INTERCEPTOR, useClass: WsTracingInterceptor }],
      tracing: { messageLogLevel: 'info' },
      adapter: (app) => new TracingIoAdapter(app),
    });
  });
  afterAll(() => t.close());

  it('adds no second span, log line or metric to a message', async () => {
    const socket = io(`${t.httpUrl}/both-io`, { transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      const traceIds: string[] = [];
      for (let n = 0; n < 3; n++) {
        const ack = (await socket.timeout(5000).emitWithAck('echo', { n })) as { echoed: unknown; traceId: string; $meta: { traceId: string } };
        expect(ack.traceId).toBe(ack.$meta.traceId);
        traceIds.push(ack.traceId);
      }
      const answer = (await socket.timeout(5000).emitWithAck('guarded', {})) as { error: { code: string } };
      expect(answer.error.code).toBe('FORBIDDEN');
      const spans = await waitFor(() => {
        const found = telemetry.spans().filter((s) => s.name === 'process echo' && traceIds.includes(s.spanContext().traceId));
        return found.length >= 3 && found;
      }, 5000, 'three message spans');
      expect(spans).toHaveLength(3);
      await logs.waitFor({ msg: 'ws.message_handled', path: '/both-io', event: 'guarded' });
      expect(logs.find({ msg: 'ws.message_handled', path: '/both-io', event: 'echo' })).toHaveLength(3);
      expect(logs.find({ msg: 'ws.message_failed', path: '/both-io' })).toHaveLength(1);
    } finally {
      socket.disconnect();
    }
    const text = await t.metrics();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/both-io', transport: 'socket.io', event: 'echo' })).toBe(3);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/both-io', transport: 'socket.io', event: 'guarded', code: 'FORBIDDEN' })).toBe(1);
  });
});
