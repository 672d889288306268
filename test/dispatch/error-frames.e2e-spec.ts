import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { SpanStatusCode } from '@opentelemetry/api';
import { TracedGateway } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { TestTelemetry } from '../support/otel.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/msg' })
class MessagesGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('explode')
  async explode(): Promise<never> {
    await Promise.resolve();
    throw new Error('secret internal detail: db at 10.1.2.3');
  }

  @SubscribeMessage('refuse')
  refuse(): never {
    throw new WsException('room is full');
  }
}

describe('error frames of traced messages', () => {
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

  it('turns a thrown error into an INTERNAL error frame with the trace id, and keeps the socket', async () => {
    const socket = await connect(url);
    try {
      const frame = await socket.request('explode', null, 'explode', { id: 'x1' });
      expect(frame.event).toBe('error');
      expect(frame.data).toEqual({ code: 'INTERNAL', message: 'Internal server error', traceId: expect.stringMatching(/^[0-9a-f]{32}$/), retryable: false });
      expect(frame.meta).toEqual({ id: 'x1', traceId: frame.data.traceId });
      expect(JSON.stringify(frame)).not.toContain('10.1.2.3');
      const span = await telemetry.waitForSpan((s) => s.name === 'process explode' && s.spanContext().traceId === frame.data.traceId);
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events.some((e) => e.name === 'exception')).toBe(true);
      const failed = await logs.waitFor({ msg: 'ws.message_failed', trace_id: frame.data.traceId });
      expect(failed.error_code).toBe('INTERNAL');
      expect((failed.err as { stack: string }).stack).toContain('secret internal detail');
      // Still serving.
      expect((await socket.request('echo', 'still here')).data).toBe('still here');
    } finally {
      await socket.close();
    }
  });

  it('keeps the message of a WsException', async () => {
    const socket = await connect(url);
    try {
      const frame = await socket.request('refuse', null);
      expect(frame.data).toMatchObject({ code: 'BAD_REQUEST', message: 'room is full' });
    } finally {
      await socket.close();
    }
    const text = await t.metrics();
    expect(metricValue(text, 'ws_message_errors_total', { path: '/msg', event: 'refuse', code: 'BAD_REQUEST' })).toBe(1);
    expect(metricValue(text, 'ws_message_errors_total', { path: '/msg', event: 'explode', code: 'INTERNAL' })).toBe(1);
  });

  it('logs a client-caused failure as one info line with its message, no stack; a server fault at error with it', async () => {
    const socket = await connect(url);
    try {
      const refused = await socket.request('refuse', null);
      const line = await logs.waitFor({ msg: 'ws.message_failed', trace_id: refused.data.traceId });
      expect(line).toMatchObject({ level: 30, error_code: 'BAD_REQUEST', error_message: 'room is full', event: 'refuse' });
      expect(line.err).toBeUndefined();
      expect(JSON.stringify(line)).not.toContain('stack');
      const exploded = await socket.request('explode', null);
      const fault = await logs.waitFor({ msg: 'ws.message_failed', trace_id: exploded.data.traceId });
      expect(fault.level).toBe(50);
      expect((fault.err as { stack: string }).stack).toContain('secret internal detail');
    } finally {
      await socket.close();
    }
  });
});
