import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Logger } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { trace } from '@opentelemetry/api';
import { TracedGateway, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect, type TestSocket } from '../support/ws-client.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A service two calls deep: reads the context after awaits and in timers. */
@Injectable()
class AuditService {
  private readonly logger = new Logger('AuditService');
  constructor(private readonly ws: WsContextService) {}

  async record(step: number): Promise<{ connectionId?: string; traceId?: string; user?: string }> {
    await delay(step % 3);
    this.logger.log(`audit ${step}`);
    return { connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id };
  }
}

@TracedGateway()
@WebSocketGateway({ path: '/ctx' })
class ContextGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('ContextGateway');
  constructor(
    private readonly audit: AuditService,
    private readonly ws: WsContextService,
  ) {}

  handleConnection(): void {
    this.logger.log(`connected ${this.ws.connectionId}`);
  }

  handleDisconnect(): void {
    this.logger.log(`disconnected ${this.ws.connectionId}`);
  }

  @SubscribeMessage('whoami')
  whoami() {
    return { event: 'whoami', data: { connectionId: this.ws.connectionId, user: this.ws.user?.id } };
  }

  @SubscribeMessage('work')
  async work(_client: unknown, data: { n: number; wait: number }) {
    const seen: Array<{ connectionId?: string; traceId?: string; user?: string }> = [];
    const spanId = trace.getActiveSpan()?.spanContext().spanId;
    await delay(data.wait);
    seen.push(await this.audit.record(data.n));
    // A timer callback and a promise the handler starts but does not await.
    const fromTimer = await new Promise<{ connectionId?: string; traceId?: string }>((resolve) =>
      setTimeout(() => {
        this.logger.log(`timer ${data.n}`);
        resolve({ connectionId: this.ws.connectionId, traceId: this.ws.traceId });
      }, data.wait),
    );
    seen.push(fromTimer);
    const floating = delay(1).then(() => {
      this.logger.log(`floating ${data.n}`);
      return { connectionId: this.ws.connectionId, traceId: this.ws.traceId };
    });
    seen.push(await floating);
    return { event: 'worked', data: { n: data.n, spanId, seen } };
  }
}

const users: Record<string, string> = { 'a-token': 'alice', 'b-token': 'bob' };

describe('connection context across await, timers and concurrent sockets', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;
  let alice: TestSocket;
  let bob: TestSocket;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await startApp({
      gateways: [ContextGateway],
      providers: [AuditService],
      tracing: { authenticate: ({ token }: WsAuthRequest) => (users[token] ? { id: users[token]! } : null) },
    });
    alice = await connect(`${t.wsUrl}/ctx`, { headers: { authorization: 'Bearer a-token' } });
    bob = await connect(`${t.wsUrl}/ctx`, { headers: { authorization: 'Bearer b-token' } });
    ids.alice = (await alice.request('whoami', null)).data.connectionId;
    ids.bob = (await bob.request('whoami', null)).data.connectionId;
  });
  afterAll(async () => {
    await alice.close();
    await bob.close();
    await t.close();
    await telemetry.shutdown();
  });

  it('runs handleConnection inside the connection context', async () => {
    expect(ids.alice).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.alice).not.toBe(ids.bob);
    const line = await logs.waitFor({ msg: `connected ${ids.alice}` });
    expect(line.connection_id).toBe(ids.alice);
    expect(line.user_id).toBe('alice');
  });

  it('keeps each message in its own socket context when two sockets interleave', async () => {
    const rounds = 12;
    for (let n = 0; n < rounds; n++) {
      // Opposite waits make the handlers of the two sockets overlap and finish out of order.
      alice.send('work', { n, wait: (rounds - n) % 5 });
      bob.send('work', { n: 100 + n, wait: n % 5 });
    }
    const replies: Record<string, Array<{ n: number; spanId: string; traceId: string; seen: Array<{ connectionId?: string; traceId?: string; user?: string }> }>> = { alice: [], bob: [] };
    for (const [name, socket] of [['alice', alice], ['bob', bob]] as const) {
      for (let i = 0; i < rounds; i++) {
        const f = await socket.next((x) => x.event === 'worked');
        replies[name]!.push({ ...f.data, traceId: f.meta!.traceId! });
      }
    }
    const traceIds = new Set<string>();
    for (const [name, list] of Object.entries(replies)) {
      for (const reply of list) {
        traceIds.add(reply.traceId);
        for (const seen of reply.seen) {
          expect(seen.connectionId).toBe(ids[name]);
          // The same message's trace id, after await, in a timer, in a floating promise.
          expect(seen.traceId).toBe(reply.traceId);
        }
        expect(reply.seen[0]!.user).toBe(name);
        // Every log line written while handling this message carries this socket's ids.
        const lines = await waitFor(() => {
          const found = logs.lines.filter((l) => l.trace_id === reply.traceId && l.context !== undefined);
          return found.length >= 3 && found;
        }, 5000, `3 user log lines of trace ${reply.traceId}`);
        for (const line of lines) {
          expect(line.connection_id).toBe(ids[name]);
          expect(line.user_id).toBe(name);
          expect(line.span_id).toBe(reply.spanId);
          expect(line.event).toBe('work');
        }
        const span = await telemetry.waitForSpan((s) => s.name === 'process work' && s.spanContext().traceId === reply.traceId);
        expect(span.attributes['ws.connection.id']).toBe(ids[name]);
        expect(span.spanContext().spanId).toBe(reply.spanId);
      }
    }
    // message trace mode: every message is its own trace.
    expect(traceIds.size).toBe(rounds * 2);
  });

  it('runs handleDisconnect inside the connection context', async () => {
    const extra = await connect(`${t.wsUrl}/ctx`, { headers: { authorization: 'Bearer b-token' } });
    const id = (await extra.request('whoami', null)).data.connectionId as string;
    await extra.close();
    const line = await logs.waitFor({ msg: `disconnected ${id}` });
    expect(line.connection_id).toBe(id);
    expect(line.user_id).toBe('bob');
  });
});
