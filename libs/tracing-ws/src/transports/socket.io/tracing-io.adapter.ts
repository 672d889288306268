import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { context as otelContext } from '@opentelemetry/api';
import { ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { recordClose } from '../../core/connection/ws-connection.close.js';
import { getConnectionState, type WsConnectionState } from '../../core/connection/ws-connection.state.js';
import { WsMessageDispatcher } from '../../core/dispatch/ws-message.dispatcher.js';
import type { WsAcceptedHandshake } from '../../core/handshake/ws-handshake.outcome.js';
import { holdHandshake, takeHandshake } from '../../core/handshake/ws-handshake.abandon.js';
import { resolveTransportCore, type WsTransportCore } from '../../core/module/transport-core.js';
import type { WsHandshakeRequest } from '../../core/model/ws-handshake.request.js';
import type { WsAck } from '../../core/model/ws-transport.js';
import { IO_SESSION_EVENT, takeIoMeta } from '../../core/model/io-wire.js';
import { closeCodeOf, closedByOf, IO_PING_TIMEOUT, refusalError } from './io-protocol.js';
import { IoSocketConnection } from './io-socket.connection.js';
import { registerIoServer } from './io-server.registry.js';
import { traceDefaultAdapter } from './io-traced.adapter.js';


type Core = WsTransportCore;

/** ws's error code for a frame over `maxPayload`: engine.io's websocket transport then closes the connection. */
const PAYLOAD_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * The `@nestjs/platform-socket.io` adapter with the handshake guard before every
 * connection, connection lifecycle telemetry, and traced dispatch of every event.
 * It maps socket.io's events onto the transport-independent core:
 * - an engine.io middleware on a new connection's first HTTP request: shutdown, origin
 *   allow-list, connection limits, answered with the HTTP status and X-Trace-ID as on ws;
 * - a namespace middleware (sees `socket.handshake.auth`): trace context, credential,
 *   `authenticate`, force-sampling, the connection slot; a refusal reaches the client
 *   as `connect_error` with `data: { code, status, traceId }`;
 * - every event of a registered handler: `WsMessageDispatcher.receiveEvent`, the
 *   acknowledgement being the reply; an event no handler or listener takes is
 *   answered `UNKNOWN_EVENT` and counts against the invalid-frame allowance.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new TracingIoAdapter(app));
 */
export class TracingIoAdapter extends IoAdapter {
  private core: Core | undefined;
  private readonly guarded = new WeakSet<Namespace>();
  private readonly shutdowns = new WeakMap<Server, Promise<void>>();
  private readonly ticks = new Map<Server, NodeJS.Timeout>();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: ServerOptions & { namespace?: string; server?: Server }): Server {
    const core = this.resolveCore();
    const created = super.create(port, options) as Server | Namespace;
    const nsp = isNamespace(created) ? created : created.of('/');
    if (!this.guarded.has(nsp)) {
      this.guarded.add(nsp);
      nsp.use((socket, next) => this.checkHandshake(core, socket as Socket, nsp.name, next));
    }
    return created as Server;
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const core = this.resolveCore();
    const path = options?.path ?? '/socket.io';
    const { intervalMs } = core.options.heartbeat;
    const server = super.createIOServer(port, {
      ...(options as ServerOptions),
      maxHttpBufferSize: options?.maxHttpBufferSize ?? core.options.maxPayloadBytes,
      // socket.io runs the heartbeat: a client that misses one interval's ping is dropped, as on ws.
      ...(intervalMs > 0 ? { pingInterval: options?.pingInterval ?? intervalMs, pingTimeout: options?.pingTimeout ?? intervalMs } : {}),
    });
    // An engine.io middleware rather than `allowRequest`: both see the bare HTTP request,
    // but only a middleware can answer with the refusal's own status and X-Trace-ID
    // (allowRequest's refusals are always 400 on an upgrade, 403 on polling).
    server.engine.use((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => this.checkRequest(core, req, res, path, next));
    // What `createTracedRedisAdapter` reads to find this app's telemetry.
    registerIoServer(server, this.app);
    // Broadcasts (`server.to(room).emit()`) traced like WsBroadcaster's, unless the app brings its own adapter.
    if (!options?.adapter) traceDefaultAdapter(server);
    if (intervalMs > 0) {
      // socket.io probes by itself; the tick applies the backpressure rule to a peer nothing is sent to any more.
      const timer = setInterval(() => core.heartbeat.tick(this.statesOfServer(server), { probe: false }), intervalMs);
      timer.unref();
      this.ticks.set(server, timer);
    }
    return server;
  }

  /** The namespaces of `io` this adapter guards (socket.io keeps them in an untyped map). */
  private guardedNamespaces(io: Server): Namespace[] {
    return [...(io as unknown as { _nsps: Map<string, Namespace> })._nsps.values()].filter((nsp) => this.guarded.has(nsp));
  }

  private *statesOfServer(io: Server): Generator<WsConnectionState> {
    for (const nsp of this.guardedNamespaces(io)) yield* statesOf(nsp);
  }

  override bindClientConnect(server: Server | Namespace, callback: (...args: unknown[]) => void): void {
    const core = this.resolveCore();
    server.on('connection', (socket: Socket) => {
      let state = getConnectionState(socket);
      if (!state) {
        const handshake = takeHandshake(socket);
        if (!handshake) {
          // A namespace this adapter did not create: nothing vouches for the socket.
          socket.disconnect(true);
          return;
        }
        state = this.open(core, socket, handshake);
        // The client learns its session's trace id (ws: the 101's X-Trace-ID).
        socket.emit(IO_SESSION_EVENT, { traceId: state.context.traceId, connectionId: state.context.connectionId });
      }
      const { store, handshakeContext } = state;
      core.cls.runWith(store, () => otelContext.with(handshakeContext, () => callback(socket)));
    });
  }

  override bindClientDisconnect(client: Socket, callback: (...args: unknown[]) => void): void {
    const state = getConnectionState(client);
    if (!state) return super.bindClientDisconnect(client, callback);
    const core = this.resolveCore();
    client.once('disconnect', (reason: string) => {
      core.cls.runWith(state.store, () => otelContext.with(state.handshakeContext, () => callback(reason)));
    });
  }

  override bindMessageHandlers(socket: Socket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const state = getConnectionState(socket);
    if (!state) return super.bindMessageHandlers(socket, handlers, transform);
    const { dispatcher } = this.resolveCore();
    const connection = state.transport as IoSocketConnection;
    for (const handler of handlers) {
      const event = String(handler.message);
      const handledManually = (handler as { isAckHandledManually?: boolean }).isAckHandledManually === true;
      dispatcher.register(state, event, handler.callback as (data: unknown, second: unknown) => unknown, { passed: true, handledManually });
      socket.on(event, (...args: unknown[]) => {
        const { data, meta, ack } = splitArguments(args);
        dispatcher.receiveEvent(state, event, data, meta, ack, connection.lastInBytes);
      });
    }
    // An event nobody listens to is answered and counted, never dropped in silence.
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (typeof event !== 'string' || socket.listeners(event).length > 0) return;
      // The data too: the library's own reserved event (a client's report) has no handler of the app.
      const { data, meta, ack } = splitArguments(args);
      dispatcher.receiveEvent(state, event, data, meta, ack, connection.lastInBytes);
    });
  }

  /**
   * Graceful shutdown (Nest calls it on `app.close()` for each gateway's server or
   * namespace): once per socket.io server, every namespace's clients get
   * `tracing-ws:close` with 1001 and their transport closed after in-flight handlers
   * finished, so that socket.io-client reconnects (to another instance); the server
   * itself is then closed as Nest's IoAdapter does.
   */
  override async close(server: Server | Namespace): Promise<void> {
    const io = isNamespace(server) ? server.server : server;
    let shutdown = this.shutdowns.get(io);
    if (!shutdown) {
      shutdown = this.shutdown(io);
      this.shutdowns.set(io, shutdown);
    }
    await shutdown;
    if (!isNamespace(server)) await super.close(server);
  }

  private async shutdown(io: Server): Promise<void> {
    const core = this.resolveCore();
    clearInterval(this.ticks.get(io));
    this.ticks.delete(io);
    const deadline = Date.now() + core.options.shutdown.timeoutMs;
    await Promise.all(this.guardedNamespaces(io).map((nsp) => core.lifecycle.shutdown([...statesOf(nsp)], nsp.name, deadline)));
  }

  /**
   * The checks that need only the HTTP request (shutdown, origin, connection limits),
   * on a new engine.io connection's first request; the rest waits for the namespace
   * middleware, which sees `auth`. Later requests of a session (polling, upgrade) carry its `sid`.
   */
  private checkRequest(core: Core, req: IncomingMessage, res: ServerResponse, path: string, next: (err?: unknown) => void): void {
    if (new URLSearchParams((req.url ?? '').split('?')[1] ?? '').has('sid')) return next();
    const request: WsHandshakeRequest = { headers: req.headers, url: req.url ?? '/', remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, transport: 'socket.io', auth: undefined, raw: req };
    core.guard.checkTransport(request, path).then(
      (refusal) => (refusal ? answerRefusal(res, refusal.status, refusal.traceId, refusal.hint, refusal.retryAfterSeconds) : next()),
      () => answerRefusal(res, 500, undefined, undefined, undefined),
    );
  }

  /** The namespace middleware: the full handshake check, with the client's `auth` payload. */
  private checkHandshake(core: Core, socket: Socket, path: string, next: (err?: Error) => void): void {
    core.guard.check(handshakeRequestOf(socket), path).then(
      (outcome) => {
        if (!outcome.accepted) return next(refusalError(outcome));
        // A client gone between the check and `connection` gives its slot back; one that left
        // while the check ran does now (socket.io then ignores the socket: its connection is not open).
        holdHandshake(socket, outcome, socket.conn, socket.conn.readyState === 'closed', () => core.guard.abandon(outcome));
        next();
      },
      () => next(new Error('Internal Server Error')),
    );
  }

  /** Turns an accepted socket into a core connection and maps its events onto the lifecycle. */
  private open(core: Core, socket: Socket, handshake: WsAcceptedHandshake): WsConnectionState {
    const { lifecycle } = core;
    const connection = new IoSocketConnection(socket);
    const state = lifecycle.open(connection, handshake);
    const engine = socket.conn;
    const watchPayloads = (transport: { name: string; socket?: { prependListener(event: 'error', listener: (err: Error & { code?: string }) => void): void } }): void => {
      if (transport.name !== 'websocket') return;
      // Before engine.io's own listener, which closes the connection at once.
      transport.socket?.prependListener('error', (err) => {
        if (err.code === PAYLOAD_TOO_LARGE) lifecycle.payloadTooLarge(state);
      });
    };
    watchPayloads((engine as unknown as { transport: Parameters<typeof watchPayloads>[0] }).transport);
    engine.on('upgrade', watchPayloads);
    socket.once('disconnect', (reason: string) => {
      if (reason === IO_PING_TIMEOUT) core.heartbeat.timedOut(state);
      const code = closeCodeOf(reason, connection.closeCode ?? state.serverCloseCode);
      recordClose(state, code, closedByOf(reason));
      lifecycle.closed(state, code, reason);
    });
    return state;
  }

  private resolveCore(): Core {
    return (this.core ??= resolveTransportCore(this.app, 'TracingIoAdapter'));
  }
}

/** A namespace connection request as the core's guard reads it: headers, URL and address of the engine.io request, and `auth`. */
function handshakeRequestOf(socket: Socket): WsHandshakeRequest {
  const { handshake } = socket;
  const auth = typeof handshake.auth === 'object' && handshake.auth !== null ? (handshake.auth as Record<string, unknown>) : undefined;
  const tcp = (socket.conn as unknown as { request?: IncomingMessage }).request?.socket;
  return { headers: handshake.headers, url: handshake.url, remoteAddress: socket.conn.remoteAddress, remotePort: tcp?.remotePort, transport: 'socket.io', auth, raw: socket };
}

/**
 * An event's arguments as socket.io hands them over: the acknowledgement last, the
 * client's `{ $meta }` before it; the rest is the handler's data, by Nest's
 * convention (one argument is the data, several an array, none undefined).
 */
function splitArguments(all: unknown[]): { data: unknown; meta: unknown; ack: WsAck | undefined } {
  const last = all[all.length - 1];
  const ack = typeof last === 'function' ? (last as WsAck) : undefined;
  const { args, meta } = takeIoMeta(ack ? all.slice(0, -1) : all);
  return { data: args.length <= 1 ? args[0] : args, meta, ack };
}

/**
 * Answers a refused request with its status and X-Trace-ID: on polling through
 * the response; on a websocket upgrade engine.io hands middlewares a stand-in
 * response that cannot write, so the status line goes to the raw socket.
 */
function answerRefusal(res: ServerResponse, status: number, traceId: string | undefined, hint: string | undefined, retryAfterSeconds: number | undefined): void {
  const body = hint ?? STATUS_CODES[status] ?? '';
  const headers: Record<string, string | number> = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' };
  if (traceId) headers['X-Trace-ID'] = traceId;
  if (retryAfterSeconds !== undefined) headers['Retry-After'] = retryAfterSeconds;
  if (res instanceof ServerResponse) {
    res.writeHead(status, headers);
    res.end(body);
    return;
  }
  const socket = (res as unknown as { socket?: Duplex }).socket;
  if (!socket) return;
  if (socket.writable) {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines}\r\n${body}`);
  }
  socket.destroy();
}

function isNamespace(server: Server | Namespace): server is Namespace {
  return typeof (server as Namespace).server === 'object' && (server as Namespace).server !== null;
}

/** The core states of a namespace's sockets (those this adapter accepted). */
function* statesOf(nsp: Namespace): Generator<WsConnectionState> {
  for (const socket of nsp.sockets.values()) {
    const state = getConnectionState(socket);
    if (state) yield state;
  }
}
