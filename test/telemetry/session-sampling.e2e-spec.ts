import { afterAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { TracedGateway, WsForceSampler, WsSessionSampler } from '@tracing-ws/nestjs';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { io } from 'socket.io-client';
import { startApp, type TestApp } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/s' })
class WsSessionGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

@TracedGateway()
@WebSocketGateway({ namespace: '/s' })
class IoSessionGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { ok: data };
  }
}

const RATIO = 0.1;
const SESSIONS = 150;
const MESSAGES = 4;
const sampler = new WsForceSampler({
  delegate: new WsSessionSampler({ delegate: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(RATIO) }) }),
  userIds: ['vip'],
});
const telemetry = new TestTelemetry({ sampler }).start();
afterAll(() => telemetry.shutdown());

type Runner = (t: TestApp, user: string) => Promise<void>;

/** One session of MESSAGES messages over ws. */
const overWs: Runner = async (t, user) => {
  const client = await connect(`${t.wsUrl}/s?access_token=${user}`);
  for (let i = 0; i < MESSAGES; i++) await client.request('echo', i);
  await client.close();
};

/** The same over socket.io. */
const overIo: Runner = async (t, user) => {
  const socket = io(`${t.httpUrl}/s`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: user } });
  await new Promise<void>((resolve, reject) => {
    socket.once('tracing-ws:session', () => resolve());
    socket.once('connect_error', reject);
  });
  for (let i = 0; i < MESSAGES; i++) await socket.timeout(5000).emitWithAck('echo', i);
  socket.close();
};

describe.each([
  ['ws', overWs, WsSessionGateway, undefined],
  ['socket.io', overIo, IoSessionGateway, (app: Parameters<NonNullable<Parameters<typeof startApp>[0]['adapter']>>[0]) => new TracingIoAdapter(app)],
] as const)('whole-session sampling over %s', (_name, run, gateway, adapter) => {
  it(`traces about ${RATIO * 100} % of sessions, each completely or not at all; a force-sampled user always`, async () => {
    const t = await startApp({ gateways: [gateway], tracing: { authenticate: ({ token }) => ({ id: token }) }, ...(adapter ? { adapter } : {}) });
    try {
      telemetry.exporter.reset();
      for (let i = 0; i < SESSIONS; i++) await run(t, `user-${i}`);
      await run(t, 'vip');
      const spans = telemetry.spans();
      const handshakes = spans.filter((s) => s.kind === SpanKind.SERVER && String(s.attributes['enduser.id']).startsWith('user-'));
      // Message spans of each session, by the connection id they carry.
      const messages = new Map<string, number>();
      for (const s of spans) {
        if (s.name !== 'process echo') continue;
        const id = String(s.attributes['ws.connection.id']);
        messages.set(id, (messages.get(id) ?? 0) + 1);
      }
      const sampledSessions = handshakes.map((h) => String(h.attributes['ws.connection.id']));
      // Every sampled session has all its messages; no unsampled session has any.
      for (const id of sampledSessions) expect(messages.get(id)).toBe(MESSAGES);
      const vip = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['enduser.id'] === 'vip')!;
      expect(messages.get(String(vip.attributes['ws.connection.id']))).toBe(MESSAGES);
      expect(messages.size).toBe(sampledSessions.length + 1);
      // About RATIO of the sessions (150 sessions: 1.5 % to 25 % covers the binomial spread many times over).
      expect(sampledSessions.length).toBeGreaterThanOrEqual(2);
      expect(sampledSessions.length).toBeLessThanOrEqual(38);
    } finally {
      await t.close();
    }
  }, 60000);
});
