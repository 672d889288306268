import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { WsTracingInterceptor } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../../support/app.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';
import { waitFor } from '../../support/wait.js';
import { connect } from '../../support/ws-client.js';
import { byoGateway, DenyGuard } from './byo.gateway.js';

describe('WsTracingInterceptor under TracingWsAdapter', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;

  beforeAll(async () => {
    // Bound twice, globally and on the gateway: the adapter has traced the message already.
    t = await startApp({
      gateways: [byoGateway({ path: '/both' })],
      providers: [DenyGuard, { provide: APP_INTERCEPTOR, useClass: WsTracingInterceptor }],
      tracing: { messageLogLevel: 'info' },
    });
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

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
    expect(metricValue(text, 'ws_messages_received_total', { path: '/both', event: 'whoami' })).toBe(4);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/both', event: 'explode', code: 'INTERNAL' })).toBe(1);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/both', event: 'guarded', code: 'FORBIDDEN' })).toBe(1);
  });

  it('leaves HTTP requests alone when bound globally', async () => {
    const res = await fetch(`${t.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ws_messages_received_total');
  });
});
