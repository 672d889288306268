import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { connect, upgrade } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/lines' })
class LinesGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

// Every line about a connection is built by one owner of the log fields: it carries the
// handshake span's trace_id and span_id (not only a trace_id), and the gateway path.
describe('connection log lines carry the trace of their span', () => {
  const otel = new TestTelemetry();
  let t: TestApp;
  beforeAll(async () => {
    otel.start();
    t = await startApp({
      gateways: [LinesGateway],
      tracing: {
        allowedOrigins: ['https://app.example.com'],
        rateLimit: { messagesPerSecond: 1, burst: 1, closeAfterRefused: 0 },
        authenticate: ({ token }) => {
          if (token === 'boom') throw new Error('user store down');
          return { id: token };
        },
        allowForceSampling: () => {
          throw new Error('flag service down');
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await otel.shutdown();
  });

  it('a refused handshake logs the span id of its GET span', async () => {
    const refused = await upgrade(`${t.wsUrl}/lines`, { headers: { origin: 'https://evil.example.com' } });
    expect(refused.status).toBe(403);
    const traceId = String(refused.headers['x-trace-id']);
    const span = await otel.waitForSpan((s) => s.name === 'GET /lines' && s.spanContext().traceId === traceId);
    const line = await logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: traceId });
    expect(line).toMatchObject({ span_id: span.spanContext().spanId, trace_flags: '01', path: '/lines', reason: 'origin_not_allowed', status: 403 });
  });

  it("a failing authenticate hook's line carries the trace id the client is given, and its span id", async () => {
    const refused = await upgrade(`${t.wsUrl}/lines`, { headers: { origin: 'https://app.example.com', authorization: 'Bearer boom' } });
    expect(refused.status).toBe(500);
    const traceId = String(refused.headers['x-trace-id']);
    const span = await otel.waitForSpan((s) => s.name === 'GET /lines' && s.spanContext().traceId === traceId);
    const line = await logs.waitFor({ msg: 'ws.auth_hook_failed', trace_id: traceId });
    expect(line).toMatchObject({ span_id: span.spanContext().spanId, path: '/lines' });
    expect(logs.find({ msg: 'ws.handshake_rejected', trace_id: traceId, reason: 'auth_error' })).toHaveLength(1);
  });

  it("a failing allowForceSampling hook's line carries the trace id of the connection it belongs to", async () => {
    const socket = await connect(`${t.wsUrl}/lines`, { headers: { origin: 'https://app.example.com', authorization: 'Bearer alice', 'x-force-sample': '1' } });
    const traceId = String(socket.upgradeHeaders['x-trace-id']);
    const line = await logs.waitFor({ msg: 'ws.hook_failed', hook: 'allowForceSampling', trace_id: traceId });
    expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    await socket.close();
  });

  it('rate-limit and rejected-frame lines carry the handshake span, the connection and the path', async () => {
    const socket = await connect(`${t.wsUrl}/lines`, { headers: { origin: 'https://app.example.com' } });
    const traceId = String(socket.upgradeHeaders['x-trace-id']);
    const handshake = await otel.waitForSpan((s) => s.name === 'GET /lines' && s.spanContext().traceId === traceId);
    const expected = { trace_id: traceId, span_id: handshake.spanContext().spanId, connection_trace_id: traceId, path: '/lines' };

    socket.sendRaw('not json');
    expect((await socket.next()).data).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await logs.waitFor({ msg: 'ws.message_rejected', connection_trace_id: traceId })).toMatchObject(expected);

    // The bucket holds one frame, spent on the malformed one: the next is refused.
    socket.send('echo', 1);
    expect((await socket.next()).data).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await logs.waitFor({ msg: 'ws.rate_limited', connection_trace_id: traceId })).toMatchObject(expected);
    await socket.close();
  });
});
