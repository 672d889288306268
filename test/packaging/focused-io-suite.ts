import { expect, it } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { metricValue } from '../support/metrics.js';
import { waitFor } from '../support/wait.js';
import type { ScratchConsumer } from './consumer.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
/** SpanKind.CONSUMER of @opentelemetry/api. */
const CONSUMER = 4;

/**
 * The packed library's socket.io transport, loaded by the consumer from the
 * `@tracing-ws/nestjs/socket.io` entry (compat/<name>/src/main.ts with
 * TRANSPORT=socket.io), checked with the official socket.io-client: its probe
 * gateway's `path` is socket.io's engine path, its namespace `/`.
 */
export function focusedIoSuite(consumer: () => ScratchConsumer): void {
  const app = () => consumer().ioApp!;
  const connect = (auth: Record<string, string>): Socket => io(app().httpUrl, { path: '/ws', transports: ['websocket'], reconnection: false, forceNew: true, auth });

  it('boots the consumer on socket.io from the packed tarball', () => {
    expect(app().find({ msg: 'sample.listening' })[0]).toMatchObject({ transport: 'socket.io' });
  });

  it('refuses a socket.io client without a token: connect_error with code UNAUTHORIZED and a trace id', async () => {
    const socket = connect({});
    try {
      const err = await new Promise<Error & { data?: { code: string; traceId: string } }>((resolve) => socket.once('connect_error', resolve));
      expect(err.data).toMatchObject({ code: 'UNAUTHORIZED', traceId: expect.stringMatching(TRACE_ID) });
    } finally {
      socket.close();
    }
  });

  it('serves a socket.io message with the CLS context, a CONSUMER span and ws_ metrics labelled socket.io', async () => {
    const socket = connect({ token: 'alice-token' });
    try {
      const session = await new Promise<{ traceId: string }>((resolve) => socket.once('tracing-ws:session', resolve));
      expect(session.traceId).toMatch(TRACE_ID);
      const reply = new Promise<[{ user: string; connectionTraceId: string; traceId: string }, { $meta: { traceId: string } }]>((resolve) => socket.once('whoami', (data, meta) => resolve([data, meta])));
      socket.emit('whoami', {});
      const [data, meta] = await reply;
      expect(data).toMatchObject({ user: 'alice', injectedUser: 'alice', connectionTraceId: session.traceId, traceId: meta.$meta.traceId });
      const span = await waitFor(
        async () => {
          const spans = (await (await fetch(`${app().httpUrl}/test/spans`)).json()) as Array<{ name: string; kind: number; traceId: string; attributes: Record<string, unknown> }>;
          return spans.find((s) => s.name === 'process whoami' && s.traceId === meta.$meta.traceId);
        },
        5000,
        'the span of the whoami event',
      );
      expect(span.kind).toBe(CONSUMER);
      expect(span.attributes).toMatchObject({ 'messaging.system': 'socket.io', 'enduser.id': 'alice' });
      const metrics = await (await fetch(`${app().httpUrl}/metrics`)).text();
      expect(metricValue(metrics, 'ws_messages_received_total', { path: '/', transport: 'socket.io', event: 'whoami' })).toBe(1);
    } finally {
      socket.close();
    }
  });
}
