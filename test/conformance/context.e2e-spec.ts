import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { TracedGateway, WsConnection, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import { accepted, CONFORMANCE_PATH, type HarnessApp, type HarnessClient } from './harness.js';
import { TRANSPORTS } from './transports.js';
import { waitFor } from '../support/wait.js';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What WsContextService returned at one point of the code. */
interface Seen {
  connectionId?: string;
  traceId?: string;
  user?: string;
}

/** Collects what handleConnection and handleDisconnect saw, for the test to read. */
@Injectable()
class ConnectionLog {
  readonly seen: Seen[] = [];
  readonly gone: Seen[] = [];
}

/** A service a few calls deep: reads the context after its own await. */
@Injectable()
class AuditService {
  constructor(private readonly ws: WsContextService) {}

  async record(step: number): Promise<Seen> {
    await delay(step % 3);
    return { connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id };
  }
}

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class ContextGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly ws: WsContextService,
    private readonly audit: AuditService,
    private readonly connections: ConnectionLog,
  ) {}

  handleConnection(): void {
    this.connections.seen.push({ connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id });
  }

  handleDisconnect(): void {
    this.connections.gone.push({ connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id });
  }

  @SubscribeMessage('whoami')
  whoami(@WsConnection('connectionId') decorated: string) {
    return {
      event: 'whoami',
      data: { connectionId: this.ws.connectionId, decorated, traceId: this.ws.traceId, messageTraceId: this.ws.message?.traceId, user: this.ws.user?.id },
    };
  }

  @SubscribeMessage('work')
  async work(_client: unknown, data: { n: number; wait: number }) {
    const seen: Seen[] = [];
    await delay(data.wait);
    seen.push(await this.audit.record(data.n));
    seen.push(
      await new Promise<Seen>((resolve) =>
        setTimeout(() => resolve({ connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id }), data.wait),
      ),
    );
    // A promise the handler starts and awaits only later.
    const floating = delay(1).then((): Seen => ({ connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id }));
    await delay(data.wait);
    seen.push(await floating);
    return { event: 'worked', data: { n: data.n, seen } };
  }
}

const USERS: Record<string, string> = { 'alice-token': 'alice', 'bob-token': 'bob' };
const authenticate = ({ token }: WsAuthRequest) => (USERS[token] ? { id: USERS[token]! } : null);

interface WhoAmI {
  connectionId: string;
  decorated: string;
  traceId: string;
  messageTraceId: string;
  user: string;
}

interface Worked {
  n: number;
  seen: Seen[];
}

describe.each(TRANSPORTS)('connection context over $name', (harness) => {
  let app: HarnessApp;
  let alice: HarnessClient;
  let bob: HarnessClient;
  const me: Record<string, WhoAmI> = {};

  beforeAll(async () => {
    app = await harness.start({ gateways: [ContextGateway], providers: [AuditService, ConnectionLog], options: { authenticate } });
    alice = accepted(await app.connect({ token: 'alice-token' }));
    bob = accepted(await app.connect({ token: 'bob-token' }));
    me.alice = (await alice.request('whoami')).data as WhoAmI;
    me.bob = (await bob.request('whoami')).data as WhoAmI;
  });
  afterAll(async () => {
    await alice.close();
    await bob.close();
    await app.close();
  });

  it('runs handleConnection in the connection context: its id, its handshake trace id, its user', () => {
    const log = app.get(ConnectionLog);
    expect(log.seen.find((s) => s.traceId === alice.traceId)).toEqual({ connectionId: me.alice!.connectionId, traceId: alice.traceId, user: 'alice' });
    expect(log.seen.find((s) => s.traceId === bob.traceId)).toEqual({ connectionId: me.bob!.connectionId, traceId: bob.traceId, user: 'bob' });
  });

  it("gives a handler the connection's id and user through WsContextService and @WsConnection, and the message's trace id", async () => {
    const frame = await alice.request('whoami', null, { meta: { id: 'w-1' } });
    const reply = frame.data as WhoAmI;
    expect(reply.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.connectionId).not.toBe(me.bob!.connectionId);
    expect(reply.decorated).toBe(reply.connectionId);
    expect(reply.user).toBe('alice');
    expect(reply.traceId).toBe(frame.meta?.traceId);
    expect(reply.messageTraceId).toBe(frame.meta?.traceId);
  });

  it('keeps the message context across await, in a timer and in a promise the handler starts', async () => {
    const frame = await alice.request('work', { n: 1, wait: 2 }, { reply: 'worked' });
    const reply = frame.data as Worked;
    expect(reply.seen).toHaveLength(3);
    for (const seen of reply.seen) expect(seen).toEqual({ connectionId: me.alice!.connectionId, traceId: frame.meta?.traceId, user: 'alice' });
  });

  it("never lets two interleaved clients see each other's context", async () => {
    const rounds = 8;
    for (let n = 0; n < rounds; n++) {
      // Opposite waits make the two clients' handlers overlap and finish out of order.
      alice.send('work', { n, wait: (rounds - n) % 4 });
      bob.send('work', { n: 100 + n, wait: n % 4 });
    }
    const traceIds = new Set<string>();
    for (const [name, client] of [['alice', alice], ['bob', bob]] as const) {
      for (let i = 0; i < rounds; i++) {
        const frame = await client.next('worked');
        const traceId = frame.meta!.traceId!;
        const reply = frame.data as Worked;
        traceIds.add(traceId);
        expect(reply.n >= 100).toBe(name === 'bob');
        for (const seen of reply.seen) expect(seen).toEqual({ connectionId: me[name]!.connectionId, traceId, user: name });
      }
    }
    // Every message is a trace of its own.
    expect(traceIds.size).toBe(rounds * 2);
  });

  it('runs handleDisconnect in the connection context of the client that left', async () => {
    const carol = accepted(await app.connect({ token: 'bob-token' }));
    const mine = (await carol.request('whoami')).data as WhoAmI;
    await carol.close();
    const log = app.get(ConnectionLog);
    const seen = await waitFor(() => log.gone.find((s) => s.traceId === carol.traceId), 5000, 'handleDisconnect of the closed client');
    expect(seen).toEqual({ connectionId: mine.connectionId, traceId: carol.traceId, user: 'bob' });
  });
});
