import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, UseGuards, UsePipes, ValidationPipe, type CanActivate, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MessageBody, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { TracingWsClient, WsClientError, type TracingWsClientOptions } from '@tracing-ws/client';
import { TracedGateway, TracingWsAdapter, TracingWsModule, WsBroadcaster, WsContextService, wsLogMixin, type TracingWsModuleOptions, type WsAuthRequest } from '@tracing-ws/nestjs';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { logs } from '../support/app.js';
import { nextEvent, recordEvents } from './client-events.js';
import { withoutForeignUndiciSubscribers } from './undici-isolation.js';

// The contract between the two packages: the real @tracing-ws/client (Node's
// global WebSocket) against the real library in a listening Nest app, with no
// fake on either side. test/client/ws-client.e2e-spec.ts covers the client's
// own logic against a scripted server; this suite checks that what the library
// really sends is what the client understands.

const TRACE_ID = /^[0-9a-f]{32}$/;

// Upgrades as a browser sends them (see undici-isolation.ts).
let restoreUndici: () => void;
beforeAll(() => {
  restoreUndici = withoutForeignUndiciSubscribers();
});
afterAll(() => restoreUndici());

/** Demo credentials: `brief-token`'s credential expires 400 ms after the handshake. */
function authenticate({ token }: WsAuthRequest) {
  if (token === 'alice-token') return { id: 'alice' };
  if (token === 'bob-token') return { id: 'bob' };
  if (token === 'brief-token') return { id: 'brief', expiresAt: Date.now() + 400 };
  if (token === 'renewed-token') return { id: 'brief' };
  return null;
}

class BookDto {
  @IsString()
  room!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  seats!: number;
}

/** A guard that refuses everything: Nest turns its `false` into "Forbidden resource". */
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@TracedGateway()
@WebSocketGateway({ path: '/chat' })
class ContractGateway {
  constructor(
    private readonly ws: WsContextService,
    private readonly broadcaster: WsBroadcaster,
  ) {}

  @SubscribeMessage('join')
  join(socket: WebSocket, data: { room: string }) {
    this.broadcaster.join(socket, data.room);
    return { event: 'joined', data: { room: data.room, members: this.broadcaster.size(data.room), user: this.ws.user?.id } };
  }

  @SubscribeMessage('leave')
  leave(socket: WebSocket, data: { room: string }) {
    this.broadcaster.leave(socket, data.room);
    return { event: 'left', data: { room: data.room } };
  }

  @SubscribeMessage('echo')
  echo(_socket: WebSocket, data: unknown) {
    return { event: 'echo', data };
  }

  /** Answers after `ms`, so that replies can overtake each other. */
  @SubscribeMessage('later')
  async later(_socket: WebSocket, data: { n: number; ms: number }) {
    await new Promise((resolve) => setTimeout(resolve, data.ms));
    return { event: 'later', data: { n: data.n } };
  }

  @SubscribeMessage('say')
  say(socket: WebSocket, data: { room: string; text: string }) {
    if (!this.broadcaster.roomsOf(socket).includes(data.room)) throw new WsException('join the room first');
    if (/spam/i.test(data.text)) throw new WsException({ code: 'FORBIDDEN', message: 'message rejected by moderation' });
    const delivered = this.broadcaster.toRoom(data.room).emit('message', { room: data.room, text: data.text, user: this.ws.user?.id, traceId: this.ws.traceId });
    return { event: 'sent', data: { delivered } };
  }

  @SubscribeMessage('admin')
  @UseGuards(DenyAll)
  admin() {
    return { event: 'admin', data: 'never' };
  }

  @SubscribeMessage('crash')
  crash(): never {
    throw new Error('database password rejected');
  }

  @SubscribeMessage('book')
  @UsePipes(new ValidationPipe())
  book(@MessageBody() body: BookDto) {
    return { event: 'booked', data: body };
  }

  /** Closes this socket from the server side with the code asked for. */
  @SubscribeMessage('close-me')
  closeMe(socket: WebSocket, data: { code: number; reason: string }) {
    socket.close(data.code, data.reason);
  }
}

interface ContractApp {
  app: INestApplication;
  port: number;
  url: string;
}

/** A real Nest app with the library, listening on 127.0.0.1 (`port` 0: a free one). */
async function startContractApp(tracing: TracingWsModuleOptions, port = 0): Promise<ContractApp> {
  const tracingModule: DynamicModule = TracingWsModule.forRoot({ authenticate, requireAuth: true, ...tracing });
  @Module({
    imports: [LoggerModule.forRoot({ pinoHttp: [{ level: 'debug', mixin: wsLogMixin }, logs] }), tracingModule],
    providers: [ContractGateway],
  })
  class ContractAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ContractAppModule] }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  app.useLogger(app.get(PinoNestLogger));
  app.useWebSocketAdapter(new TracingWsAdapter(app));
  await app.listen(port, '127.0.0.1');
  const listening = (app.getHttpServer().address() as AddressInfo).port;
  return { app, port: listening, url: `ws://127.0.0.1:${listening}/chat` };
}

const clients: TracingWsClient[] = [];

/** A client with fast, deterministic reconnects (jitter fixed at 0.5). */
function clientOf(server: ContractApp, options: Partial<TracingWsClientOptions> = {}): TracingWsClient {
  const client = new TracingWsClient({ url: server.url, token: 'alice-token', random: () => 0.5, reconnect: { baseMs: 40, capMs: 400, slowDownMs: 300 }, ...options });
  clients.push(client);
  return client;
}

/** The rejection of `promise`, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<WsClientError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.error).toBeInstanceOf(WsClientError);
  return outcome.error as WsClientError;
}

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});

describe('@tracing-ws/client against a real TracingWsModule gateway', () => {
  let server: ContractApp;
  beforeAll(async () => {
    server = await startContractApp({});
  });
  afterAll(() => server.app.close());

  describe('handshake and request/reply', () => {
    it('connects with the bearer subprotocol, and its connection trace id is the one the server logs', async () => {
      const chat = clientOf(server);
      const open = nextEvent(chat, 'open');
      await chat.connect();
      expect((await open).protocol).toBe('json');
      const connected = await logs.waitFor({ msg: 'ws.connected', connection_trace_id: chat.traceId });
      expect(connected).toMatchObject({ user_id: 'alice', path: '/chat' });
    });

    it("resolves request() with the reply to its own id, under the trace id the client chose, which the server's log line carries", async () => {
      const chat = clientOf(server);
      await chat.connect();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const reply = await chat.request<{ n: number }>('echo', { n: 1 }, { traceId });
      expect(reply).toMatchObject({ event: 'echo', data: { n: 1 }, traceId });
      expect(reply.meta.id).toBe(reply.id);
      const handled = await logs.waitFor({ msg: 'ws.message_handled', trace_id: traceId });
      expect(handled).toMatchObject({ event: 'echo', user_id: 'alice', connection_trace_id: chat.traceId });
      expect(handled.connection_id).toEqual(expect.any(String));
    });

    it('gives every message its own trace by default, and the connection trace in messageTrace "connection" mode', async () => {
      const perMessage = clientOf(server);
      await perMessage.connect();
      const [a, b] = await Promise.all([perMessage.request('echo', 'a'), perMessage.request('echo', 'b')]);
      expect(a.traceId).toMatch(TRACE_ID);
      expect(new Set([a.traceId, b.traceId, perMessage.traceId]).size).toBe(3);

      const perConnection = clientOf(server, { messageTrace: 'connection' });
      await perConnection.connect();
      expect((await perConnection.request('echo', 'c')).traceId).toBe(perConnection.traceId);
    });

    it('matches replies that arrive out of order to their requests', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const slow = chat.request<{ n: number }>('later', { n: 1, ms: 150 });
      const fast = chat.request<{ n: number }>('later', { n: 2, ms: 0 });
      const order: number[] = [];
      await Promise.all([slow.then((r) => order.push(r.data.n)), fast.then((r) => order.push(r.data.n))]);
      expect(order).toEqual([2, 1]);
    });

    it('delivers a room broadcast to subscribers with the trace id of the message that caused it', async () => {
      const alice = clientOf(server);
      const bob = clientOf(server, { token: 'bob-token' });
      await Promise.all([alice.connect(), bob.connect()]);
      await alice.join('contract-room');
      await bob.join('contract-room');
      const received = new Promise<{ text: string; user: string; traceId: string }>((resolve) => bob.subscribe('message', resolve));
      const sent = await alice.request<{ delivered: number }>('say', { room: 'contract-room', text: 'hello bob' });
      expect(sent.data.delivered).toBe(2);
      expect(await received).toEqual({ room: 'contract-room', text: 'hello bob', user: 'alice', traceId: sent.traceId });
    });
  });

  describe('error frames become WsClientErrors', () => {
    it("rejects with BAD_REQUEST and the application's text for a WsException, with the trace id the server logged", async () => {
      const chat = clientOf(server);
      await chat.connect();
      const error = await rejectionOf(chat.request('say', { room: 'nowhere', text: 'hi' }));
      expect(error).toMatchObject({ code: 'BAD_REQUEST', message: 'join the room first', userMessage: 'That request was not accepted: join the room first', retryable: false, event: 'say' });
      expect(error.traceId).toMatch(TRACE_ID);
      expect(error.supportText).toBe(`Quote this id to support: ${error.traceId}`);
      expect(await logs.waitFor({ msg: 'ws.message_failed', trace_id: error.traceId })).toMatchObject({ event: 'say', error_code: 'BAD_REQUEST', user_id: 'alice' });
    });

    it("shows the application's reason for a FORBIDDEN refusal, and hides Nest's stock text of a guard", async () => {
      const chat = clientOf(server);
      await chat.connect();
      await chat.join('moderated');
      const moderated = await rejectionOf(chat.request('say', { room: 'moderated', text: 'buy spam now' }));
      expect(moderated).toMatchObject({ code: 'FORBIDDEN', userMessage: 'You are not allowed to do that: message rejected by moderation' });
      const guarded = await rejectionOf(chat.request('admin', {}));
      expect(guarded).toMatchObject({ code: 'FORBIDDEN', message: 'Forbidden resource', userMessage: 'You are not allowed to do that.' });
    });

    it('rejects with INTERNAL and a generic text for a thrown Error: the internal text never reaches the client', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const error = await rejectionOf(chat.request('crash', {}));
      expect(error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error', userMessage: 'Something went wrong on our side.', retryable: false });
      expect(JSON.stringify(error)).not.toContain('password');
      const failed = await logs.waitFor({ msg: 'ws.message_failed', trace_id: error.traceId });
      expect(failed).toMatchObject({ level: 50, error_code: 'INTERNAL' });
      expect(JSON.stringify(failed.err)).toContain('database password rejected');
    });

    it('rejects with VALIDATION_FAILED and the field errors in details', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const error = await rejectionOf(chat.request('book', { room: 'a', seats: 99 }));
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', userMessage: 'Some of the values are not valid. Please check them and try again.' });
      expect(error.details).toEqual([expect.stringContaining('seats')]);
      const booked = await chat.request('book', { room: 'a', seats: 2 });
      expect(booked.data).toEqual({ room: 'a', seats: 2 });
    });

    it('rejects with UNKNOWN_EVENT for an event no handler serves, matched to the request by its id', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const error = await rejectionOf(chat.request('no-such-event', {}, { timeoutMs: 5000 }));
      expect(error).toMatchObject({ code: 'UNKNOWN_EVENT', event: 'no-such-event' });
      expect(error.userMessage).toBe('This app version sent something the server does not understand. Please reload the page.');
    });
  });
});

describe("the client's close-code policy against the library's real closes", () => {
  describe('with small frame limits', () => {
    let server: ContractApp;
    beforeAll(async () => {
      server = await startContractApp({ maxPayloadBytes: 1024, invalidFrames: { max: 2, windowMs: 60000 } });
    });
    afterAll(() => server.app.close());

    it('stops after 4400 (kept sending frames the server cannot handle): retrying would fail the same way', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const events = recordEvents(chat);
      const closed = nextEvent(chat, 'closed');
      for (let i = 0; i < 3; i++) chat.send('no-such-event');
      expect(await closed).toMatchObject({ code: 4400, wasOpen: true, gaveUp: false });
      expect(chat.state).toBe('closed');
      expect(events.filter(([type]) => type === 'reconnecting')).toEqual([]);
      // Every frame is answered (the one over the limit too) before the close.
      expect(events.filter(([type]) => type === 'error').map(([, e]) => (e as WsClientError).code)).toEqual(['UNKNOWN_EVENT', 'UNKNOWN_EVENT', 'UNKNOWN_EVENT']);
    });

    it('reconnects after 1009 (a frame over maxPayloadBytes): the message was at fault, not the session', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      chat.send('echo', 'x'.repeat(2048));
      expect(await reconnecting).toMatchObject({ code: 1009, wasOpen: true, message: 'A message was too large, so the server closed the connection.' });
      await nextEvent(chat, 'open');
      expect((await chat.request('echo', 'small')).data).toBe('small');
    });

  });

  describe('with a small rate limit', () => {
    let server: ContractApp;
    beforeAll(async () => {
      server = await startContractApp({ rateLimit: { messagesPerSecond: 1, burst: 2, closeAfterRefused: 3 } });
    });
    afterAll(() => server.app.close());

    it('reports RATE_LIMITED frames as error events, then reconnects after 4429 no sooner than slowDownMs', async () => {
      const chat = clientOf(server);
      await chat.connect();
      const events = recordEvents(chat);
      const reconnecting = nextEvent(chat, 'reconnecting');
      // burst 2: two pass, the next two are refused, the third refusal in a row closes.
      for (let i = 0; i < 5; i++) chat.send('echo', i);
      expect(await reconnecting).toMatchObject({ code: 4429, delayMs: 300, wasOpen: true, message: 'Too many messages. Please slow down.' });
      const refusals = events.filter(([type]) => type === 'error').map(([, e]) => e as WsClientError);
      expect(refusals.map((e) => [e.code, e.retryable])).toEqual([
        ['RATE_LIMITED', true],
        ['RATE_LIMITED', true],
      ]);
      expect(refusals[0]!.traceId).toMatch(TRACE_ID);
      await nextEvent(chat, 'open', undefined, 3000);
    });

    // Known gap in the library (reported, not fixed here: libs/tracing-ws is being
    // restructured): the RATE_LIMITED error frame carries no meta.id, so the client
    // cannot match it to the request it refuses and request() only fails at its
    // timeout. When the library echoes the id, this test starts failing: turn it into it().
    it.failing('rejects a rate-limited request() with RATE_LIMITED at once', async () => {
      const chat = clientOf(server);
      await chat.connect();
      await Promise.allSettled([chat.request('echo', 1), chat.request('echo', 2)]);
      const error = await rejectionOf(chat.request('echo', 3, { timeoutMs: 1000 }));
      expect(error.code).toBe('RATE_LIMITED');
    });
  });

  describe('with credentials that expire', () => {
    let server: ContractApp;
    beforeAll(async () => {
      server = await startContractApp({});
    });
    afterAll(() => server.app.close());

    it('re-authenticates after 4401 and reconnects at once with the new token', async () => {
      const asked: Array<{ code: number; reason: string }> = [];
      const chat = clientOf(server, {
        token: 'brief-token',
        reauthenticate: (close) => {
          asked.push(close);
          return 'renewed-token';
        },
      });
      await chat.connect();
      const reconnecting = nextEvent(chat, 'reconnecting');
      const reopened = nextEvent(chat, 'open');
      expect(await reconnecting).toMatchObject({ code: 4401, delayMs: 0, wasOpen: true });
      expect(asked).toEqual([{ code: 4401, reason: 'Authentication expired' }]);
      await reopened;
      await logs.waitFor({ msg: 'ws.connected', connection_trace_id: chat.traceId, user_id: 'brief' });
      expect((await chat.request('echo', 'renewed')).data).toBe('renewed');
    });

    it('stops after 4401 when there is no new token', async () => {
      const chat = clientOf(server, { token: 'brief-token' });
      await chat.connect();
      const events = recordEvents(chat);
      expect(await nextEvent(chat, 'closed')).toMatchObject({ code: 4401, wasOpen: true, gaveUp: false, message: 'Your session has expired. Please sign in again.' });
      expect(events.filter(([type]) => type === 'reconnecting')).toEqual([]);
    });
  });

  describe('when the gateway closes a socket itself', () => {
    let server: ContractApp;
    beforeAll(async () => {
      server = await startContractApp({});
    });
    afterAll(() => server.app.close());

    it.each([
      [1000, 'stops'],
      [4403, 'stops'],
      [1011, 'reconnects'],
      [1012, 'reconnects'],
    ] as const)('after %i it %s', async (code, expected) => {
      const chat = clientOf(server);
      await chat.connect();
      const next = expected === 'stops' ? nextEvent(chat, 'closed') : nextEvent(chat, 'reconnecting');
      chat.send('close-me', { code, reason: 'by the gateway' });
      expect(await next).toMatchObject({ code, reason: 'by the gateway', wasOpen: true });
      if (expected === 'reconnects') await nextEvent(chat, 'open');
      expect(chat.state).toBe(expected === 'stops' ? 'closed' : 'open');
    });
  });
});

describe('re-joining rooms after a reconnect', () => {
  it('reconnects after a server restart (1001), joins its rooms again on the new server, and receives their broadcasts', async () => {
    let server = await startContractApp({});
    const port = server.port;
    const alice = clientOf(server);
    await alice.connect();
    await alice.join('lobby');
    await alice.join('kitchen');
    const firstSession = alice.traceId;

    const reconnecting = nextEvent(alice, 'reconnecting');
    const closing = server.app.close();
    expect(await reconnecting).toMatchObject({ code: 1001, wasOpen: true, message: 'The server is restarting.' });
    await closing;

    const rejoined: string[] = [];
    const both = new Promise<void>((resolve) => {
      alice.on('rejoined', ({ room, reply }) => {
        expect(reply).toMatchObject({ event: 'joined', data: { room, user: 'alice' } });
        rejoined.push(room);
        if (rejoined.length === 2) resolve();
      });
    });
    server = await startContractApp({}, port);
    try {
      await nextEvent(alice, 'open', undefined, 10000);
      await both;
      expect(rejoined.sort()).toEqual(['kitchen', 'lobby']);
      expect(alice.rooms).toEqual(['lobby', 'kitchen']);
      expect(alice.traceId).not.toBe(firstSession);

      // The new server really has alice in the rooms: bob's message reaches her.
      const bob = clientOf(server, { token: 'bob-token' });
      await bob.connect();
      await bob.join('kitchen');
      const received = new Promise<unknown>((resolve) => alice.subscribe('message', resolve));
      const sent = await bob.request<{ delivered: number }>('say', { room: 'kitchen', text: 'welcome back' });
      expect(sent.data.delivered).toBe(2);
      expect(await received).toMatchObject({ text: 'welcome back', user: 'bob' });
    } finally {
      for (const client of clients.splice(0)) client.close();
      await server.app.close();
    }
  });

  it('forgets a left room: only the rooms still joined are joined again', async () => {
    const server = await startContractApp({});
    try {
      const chat = clientOf(server);
      await chat.connect();
      await chat.join('a');
      await chat.join('b');
      await chat.leave('a');
      const events = recordEvents(chat);
      const rejoined = nextEvent(chat, 'rejoined');
      chat.send('close-me', { code: 1012, reason: 'restart' });
      expect(await rejoined).toMatchObject({ room: 'b' });
      // Re-joins go out in join order and the server answers in order: a re-join of
      // "a" would have been answered (and reported) before "b".
      expect(events.filter(([type]) => type === 'rejoined').map(([, e]) => (e as { room: string }).room)).toEqual(['b']);
      expect(chat.rooms).toEqual(['b']);
    } finally {
      for (const client of clients.splice(0)) client.close();
      await server.app.close();
    }
  });
});
