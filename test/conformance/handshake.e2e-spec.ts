import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, type WsAuthRequest } from '@tracing-ws/nestjs';
import { accepted, CONFORMANCE_PATH, refused, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class HandshakeGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

const USERS: Record<string, string> = { 'alice-token': 'alice' };
const authenticate = ({ token }: WsAuthRequest) => {
  if (token === 'boom-token') throw new Error('db password=hunter2 unreachable');
  return USERS[token] ? { id: USERS[token]! } : null;
};
const TRACE_ID = /^[0-9a-f]{32}$/;

describe.each(TRANSPORTS)('handshake over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [HandshakeGateway], options: { authenticate } });
  });
  afterAll(() => app.close());

  it('gives every accepted connection a trace id of its own, carried by its handshake span and its ws.connected line', async () => {
    const a = accepted(await app.connect({ token: 'alice-token' }));
    const b = accepted(await app.connect({ token: 'alice-token' }));
    try {
      expect(a.traceId).toMatch(TRACE_ID);
      expect(b.traceId).toMatch(TRACE_ID);
      expect(a.traceId).not.toBe(b.traceId);
      const connected = await app.logs.waitFor({ msg: 'ws.connected', connection_trace_id: a.traceId });
      expect(connected.user_id).toBe('alice');
      const span = await app.waitForSpan((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === a.traceId);
      expect(span.attributes['ws.connection.id']).toBe(connected.connection_id);
      expect(span.attributes['enduser.id']).toBe('alice');
      expect((await a.request('echo', 'served')).data).toBe('served');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('continues an incoming traceparent: the connection keeps its trace id and the handshake span is its child', async () => {
    const client = accepted(await app.connect({ token: 'alice-token', headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }));
    try {
      expect(client.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
      const span = await app.waitForSpan((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === client.traceId);
      expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
      expect(span.attributes['ws.connection.id']).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await client.close();
    }
  });

  it('refuses an unknown credential with 401 and gives the refusal a trace id', async () => {
    const refusal = await refused(await app.connect({ token: 'nobody-token' }));
    expect(refusal.status).toBe(401);
    expect(refusal.traceId).toMatch(TRACE_ID);
    const line = await app.logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: refusal.traceId });
    expect(line.reason).toBe('invalid_credentials');
  });

  it("refuses a credential whose check throws with a trace id, never the hook's error text", async () => {
    const refusal = await refused(await app.connect({ token: 'boom-token' }));
    expect(refusal.status).toBe(500);
    expect(refusal.traceId).toMatch(TRACE_ID);
    expect(refusal.received).not.toContain('hunter2');
    expect(refusal.received).not.toContain('db password');
    const line = await app.logs.waitFor({ msg: 'ws.handshake_rejected', trace_id: refusal.traceId });
    expect(line.reason).toBe('auth_error');
    // Operators still get the hook's error, server-side.
    const failed = await app.logs.waitFor({ msg: 'ws.auth_hook_failed' });
    expect((failed.err as { message: string }).message).toBe('db password=hunter2 unreachable');
  });

  it('writes no credential into any log line, accepted or refused', async () => {
    const client = accepted(await app.connect({ token: 'alice-token' }));
    await client.request('echo', 1);
    await client.close();
    await app.logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: client.traceId });
    for (const token of ['nobody-token', 'boom-token']) await refused(await app.connect({ token }));
    expect(app.logs.find({ msg: 'ws.handshake_rejected' }).length).toBeGreaterThanOrEqual(2);
    expect(app.logs.raw.filter((l) => l.includes('alice-token') || l.includes('nobody-token') || l.includes('boom-token'))).toEqual([]);
  });
});
