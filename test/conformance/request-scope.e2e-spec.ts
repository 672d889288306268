import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory, REQUEST, type ContextId, type ContextIdStrategy, type HostComponentInfo } from '@nestjs/core';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, WS_CONNECTION_CONTEXT, WsContextService, type WsAuthRequest, type WsConnectionContext } from '@tracing-ws/nestjs';
import { ClsServiceManager } from 'nestjs-cls';
import { accepted, CONFORMANCE_PATH, errorData, type HarnessApp, type HarnessClient } from './harness.js';
import { TRANSPORTS } from './transports.js';
import { waitFor } from '../support/wait.js';

// A gateway that injects a request-scoped provider is request-scoped itself. Nest 12
// (`@nestjs/websockets` 12.1.1) then resolves it per *connection*: the first call for
// a client (handleConnection, else its first message) makes a context id and keeps it
// on the client object, REQUEST is that client, and every message of the connection
// reuses the same instances; handleDisconnect drops the id. A durable provider's
// context id comes from the app's ContextIdStrategy (here: the user's tenant, read from
// the connection context the library put in the CLS store).

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the test reads back: each request-scoped instance made, and what the hooks saw. */
@Injectable()
class Made {
  perConnection = 0;
  perTenant: string[] = [];
  connected: Array<{ instance: number; connectionId?: string; traceId?: string; user?: string }> = [];
  disconnected: Array<{ instance: number; connectionId?: string }> = [];
}

/** One per connection: REQUEST is the connection's client (the ws WebSocket, the socket.io Socket). */
@Injectable({ scope: Scope.REQUEST })
class ConnectionState {
  readonly instance: number;
  count = 0;

  constructor(
    @Inject(REQUEST) readonly client: object,
    made: Made,
  ) {
    this.instance = ++made.perConnection;
  }
}

/** One per tenant, whatever the connection: REQUEST is the strategy's payload. */
@Injectable({ scope: Scope.REQUEST, durable: true })
class TenantState {
  readonly tenant: string;

  constructor(@Inject(REQUEST) payload: { tenant: string }, made: Made) {
    this.tenant = payload.tenant;
    made.perTenant.push(payload.tenant);
  }
}

/** Durable context ids by tenant, the tenant being the connection's user's (from the CLS store). */
class TenantStrategy implements ContextIdStrategy {
  private readonly tenants = new Map<string, ContextId>();

  attach(contextId: ContextId, _request: unknown) {
    const connection = ClsServiceManager.getClsService().get<WsConnectionContext | undefined>(WS_CONNECTION_CONTEXT);
    const tenant = (connection?.user as { tenant?: string } | undefined)?.tenant ?? 'none';
    let tenantId = this.tenants.get(tenant);
    if (!tenantId) this.tenants.set(tenant, (tenantId = ContextIdFactory.create()));
    return { resolve: (info: HostComponentInfo) => (info.isTreeDurable ? tenantId : contextId), payload: { tenant } };
  }
}

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class ScopedGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly state: ConnectionState,
    private readonly made: Made,
    private readonly ws: WsContextService,
  ) {}

  handleConnection(): void {
    this.made.connected.push({ instance: this.state.instance, connectionId: this.ws.connectionId, traceId: this.ws.traceId, user: this.ws.user?.id });
  }

  handleDisconnect(): void {
    this.made.disconnected.push({ instance: this.state.instance, connectionId: this.ws.connectionId });
  }

  @SubscribeMessage('count')
  async count(@ConnectedSocket() client: object, @MessageBody() data: { wait: number }) {
    const count = ++this.state.count;
    await delay(data.wait);
    return {
      event: 'count',
      data: {
        instance: this.state.instance,
        count,
        requestIsClient: this.state.client === client,
        connectionId: this.ws.connectionId,
        messageTraceId: this.ws.message?.traceId,
        user: this.ws.user?.id,
      },
    };
  }

  @SubscribeMessage('fail')
  fail(): never {
    throw new Error('database password is hunter2');
  }
}

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class TenantGateway {
  constructor(
    private readonly tenant: TenantState,
    private readonly ws: WsContextService,
  ) {}

  @SubscribeMessage('tenant')
  which() {
    return { event: 'tenant', data: { tenant: this.tenant.tenant, user: this.ws.user?.id, messageTraceId: this.ws.message?.traceId } };
  }
}

/** A request-scoped dependency that cannot be built for one user (a tenant database that is down). */
@Injectable({ scope: Scope.REQUEST })
class TenantDatabase {
  constructor(ws: WsContextService) {
    if (ws.user?.id === 'mallory') throw new Error('connect ECONNREFUSED postgres://app:hunter2@db');
  }
}

/** No connection hooks: Nest still builds the instance when a client connects and leaves. */
@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class DatabaseGateway {
  constructor(private readonly db: TenantDatabase) {}

  @SubscribeMessage('ping')
  ping() {
    return { event: 'pong', data: { ok: this.db instanceof TenantDatabase } };
  }
}

const USERS: Record<string, { id: string; tenant: string }> = {
  'alice-token': { id: 'alice', tenant: 'acme' },
  'bob-token': { id: 'bob', tenant: 'acme' },
  'carol-token': { id: 'carol', tenant: 'globex' },
  'mallory-token': { id: 'mallory', tenant: 'acme' },
};
const authenticate = ({ token }: WsAuthRequest) => USERS[token] ?? null;

interface Counted {
  instance: number;
  count: number;
  requestIsClient: boolean;
  connectionId: string;
  messageTraceId: string;
  user: string;
}

describe.each(TRANSPORTS)('a request-scoped gateway over $name', (harness) => {
  let app: HarnessApp;
  let alice: HarnessClient;
  let bob: HarnessClient;

  beforeAll(async () => {
    app = await harness.start({ gateways: [ScopedGateway], providers: [ConnectionState, Made], options: { authenticate } });
    alice = accepted(await app.connect({ token: 'alice-token' }));
    bob = accepted(await app.connect({ token: 'bob-token' }));
  });
  afterAll(async () => {
    await alice.close();
    await bob.close();
    await app.close();
  });

  it('makes one instance per connection, which every message of that connection shares, with REQUEST = the client', async () => {
    const a1 = (await alice.request('count', { wait: 1 })).data as Counted;
    const b1 = (await bob.request('count', { wait: 1 })).data as Counted;
    const a2 = (await alice.request('count', { wait: 1 })).data as Counted;
    expect(a2.instance).toBe(a1.instance);
    expect([a1.count, a2.count]).toEqual([1, 2]);
    expect(b1.instance).not.toBe(a1.instance);
    expect(b1.count).toBe(1);
    expect([a1.requestIsClient, b1.requestIsClient]).toEqual([true, true]);
  });

  it("runs handleConnection on the connection's own instance, in its context", async () => {
    const made = app.get(Made);
    const a = (await alice.request('count', { wait: 0 })).data as Counted;
    const b = (await bob.request('count', { wait: 0 })).data as Counted;
    expect(made.connected).toEqual(
      expect.arrayContaining([
        { instance: a.instance, connectionId: a.connectionId, traceId: alice.traceId, user: 'alice' },
        { instance: b.instance, connectionId: b.connectionId, traceId: bob.traceId, user: 'bob' },
      ]),
    );
  });

  it('keeps the CLS context, the span and the reply trace id of each message, with interleaved connections', async () => {
    const [a, b] = await Promise.all([alice.request('count', { wait: 30 }), bob.request('count', { wait: 5 })]);
    for (const [frame, user] of [[a, 'alice'], [b, 'bob']] as const) {
      const data = frame.data as Counted;
      expect(data.user).toBe(user);
      expect(frame.meta?.traceId).toBe(data.messageTraceId);
      const span = await app.waitForSpan((s) => s.name === 'process count' && s.spanContext().traceId === data.messageTraceId);
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.attributes['messaging.system']).toBe(harness.messagingSystem);
    }
  });

  it('answers an exception of a request-scoped handler with the documented error and the trace id', async () => {
    const frame = await alice.request('fail', {});
    const error = errorData(frame);
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('hunter2');
    const span = await app.waitForSpan((s) => s.name === 'process fail' && s.spanContext().traceId === error.traceId);
    expect(span.status.code).toBe(2);
  });

  it("runs handleDisconnect on the leaving connection's instance, in its context", async () => {
    const made = app.get(Made);
    const carol = accepted(await app.connect({ token: 'alice-token' }));
    const c = (await carol.request('count', { wait: 0 })).data as Counted;
    await carol.close();
    await waitFor(() => made.disconnected.find((d) => d.connectionId === c.connectionId), 5000, 'handleDisconnect');
    expect(made.disconnected.find((d) => d.connectionId === c.connectionId)).toEqual({ instance: c.instance, connectionId: c.connectionId });
  });
});

describe.each(TRANSPORTS)('a gateway with a durable provider over $name', (harness) => {
  let app: HarnessApp;

  beforeAll(async () => {
    ContextIdFactory.apply(new TenantStrategy());
    app = await harness.start({ gateways: [TenantGateway], providers: [TenantState, Made], options: { authenticate } });
  });
  afterAll(async () => {
    await app.close();
    ContextIdFactory.apply(undefined as unknown as ContextIdStrategy);
  });

  it('shares one durable instance between the connections of a tenant, chosen by a strategy that reads the CLS connection context', async () => {
    const clients = await Promise.all(['alice-token', 'bob-token', 'carol-token'].map(async (token) => accepted(await app.connect({ token }))));
    const frames = await Promise.all(clients.map((c) => c.request('tenant', {})));
    expect(frames.map((f) => f.data as { tenant: string; user: string })).toEqual([
      expect.objectContaining({ tenant: 'acme', user: 'alice' }),
      expect.objectContaining({ tenant: 'acme', user: 'bob' }),
      expect.objectContaining({ tenant: 'globex', user: 'carol' }),
    ]);
    for (const frame of frames) expect(frame.meta?.traceId).toBe((frame.data as { messageTraceId: string }).messageTraceId);
    expect(app.get(Made).perTenant.sort()).toEqual(['acme', 'globex']);
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe.each(TRANSPORTS)('a request-scoped gateway that cannot be built for a connection over $name', (harness) => {
  let app: HarnessApp;

  beforeAll(async () => {
    app = await harness.start({ gateways: [DatabaseGateway], providers: [TenantDatabase], options: { authenticate } });
  });
  afterAll(() => app.close());

  it('closes that connection with 1011 and logs the failure with its trace id, as a failed handleConnection, even without connection hooks; others are served', async () => {
    const alice = accepted(await app.connect({ token: 'alice-token' }));
    expect((await alice.request('ping', {}, { reply: 'pong' })).data).toEqual({ ok: true });
    const mallory = accepted(await app.connect({ token: 'mallory-token' }));
    expect(await mallory.closed()).toEqual({ code: 1011, reason: 'Internal error' });
    const line = await app.logs.waitFor({ msg: 'ws.connection_handler_failed', trace_id: mallory.traceId });
    expect(line.hook).toBe('handleConnection');
    // Leaving builds the instance again: that failure is logged too, never an unhandled rejection.
    expect((await app.logs.waitFor({ msg: 'ws.connection_handler_failed', trace_id: mallory.traceId, hook: 'handleDisconnect' })).level).toBeDefined();
    expect((await alice.request('ping', {}, { reply: 'pong' })).data).toEqual({ ok: true });
    await alice.close();
  });
});
