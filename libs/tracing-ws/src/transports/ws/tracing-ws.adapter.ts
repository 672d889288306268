import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { context as otelContext } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Observable } from 'rxjs';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { getConnectionState, type WsConnectionState } from '../../core/connection/ws-connection.state.js';
import type { WsAcceptedHandshake } from '../../core/handshake/ws-handshake.outcome.js';
import { heldHandshake, holdHandshake, takeHandshake } from '../../core/handshake/ws-handshake.abandon.js';
import { resolveTransportCore, type WsTransportCore } from '../../core/module/transport-core.js';
import type { WsHandshakeRequest } from '../../core/model/ws-handshake.request.js';
import { WS_CLOSE_CODES } from '../../core/model/ws-protocol.js';
import { WsSocketConnection } from './ws-socket.connection.js';

type VerifyCallback = (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

type Core = WsTransportCore;

const BEARER_SUBPROTOCOL = 'bearer.';
/** ws's error code for a frame over `maxPayload` (it closes with 1009 itself). */
const PAYLOAD_TOO_LARGE = 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
/** ws's error code for a text frame that is not UTF-8 (it closes with 1007); every other protocol error closes with 1002. */
const INVALID_UTF8 = 'WS_ERR_INVALID_UTF8';

/**
 * The `@nestjs/platform-ws` adapter with the handshake guard before every 101,
 * connection lifecycle telemetry, and traced dispatch of every frame. It maps
 * ws's events onto the transport-independent core and does nothing else.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new TracingWsAdapter(app));
 */
export class TracingWsAdapter extends WsAdapter {
  private core: Core | undefined;
  private readonly heartbeats = new Map<WebSocketServer, NodeJS.Timeout>();
  private readonly paths = new Map<WebSocketServer, string>();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: Record<string, unknown> & { path?: string; server?: unknown; namespace?: string }): WebSocketServer {
    const core = this.resolveCore();
    const path = normalizeGatewayPath(options?.path);
    const server: WebSocketServer = super.create(port, {
      ...options,
      maxPayload: (options?.maxPayload as number | undefined) ?? core.options.maxPayloadBytes,
      // Pings are answered by the lifecycle's rule (rate limit, send buffer), not blindly by ws.
      autoPong: false,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => this.verify(core, info.req, path, done),
      // A bearer token offered as a subprotocol is a credential, never the protocol
      // to select: pick another offered one (browsers refuse a 101 that selects none).
      handleProtocols: (protocols: Set<string>) => {
        for (const p of protocols) if (!p.startsWith(BEARER_SUBPROTOCOL)) return p;
        return false;
      },
    } as Parameters<WsAdapter['create']>[1]);
    server.on('headers', (headers: string[], req: IncomingMessage) => {
      const handshake = heldHandshake(req);
      if (handshake) headers.push(`X-Trace-ID: ${handshake.traceId}`);
    });
    this.paths.set(server, path);
    // Only a gateway on the app's own HTTP server (port 0) is reachable through the check endpoint.
    if (port === 0) core.gateways.add(path);
    const { intervalMs } = core.options.heartbeat;
    if (intervalMs > 0) {
      const timer = setInterval(() => core.heartbeat.tick(statesOf(server)), intervalMs);
      timer.unref();
      this.heartbeats.set(server, timer);
    }
    return server;
  }

  /**
   * Graceful shutdown of one gateway server (Nest calls it on `app.close()`):
   * new upgrades get 503 and new frames an error, in-flight handlers finish and
   * their replies go out, every client gets close 1001, and whoever has not
   * closed when `shutdown.timeoutMs` runs out is terminated.
   */
  override async close(server: WebSocketServer): Promise<void> {
    const core = this.resolveCore();
    const deadline = Date.now() + core.options.shutdown.timeoutMs;
    clearInterval(this.heartbeats.get(server));
    this.heartbeats.delete(server);
    await core.lifecycle.shutdown([...statesOf(server)], this.paths.get(server) ?? '/', deadline);
    // Sockets no lifecycle knows (refused mid-upgrade, or from a foreign server) go too.
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  override bindClientConnect(server: WebSocketServer, callback: (...args: unknown[]) => void): void {
    const core = this.resolveCore();
    server.on('connection', (socket: WebSocket, req: IncomingMessage) => {
      let state = getConnectionState(socket);
      if (!state) {
        const handshake = takeHandshake(req);
        if (!handshake) {
          // Only a server built outside this adapter gets here: nothing vouches for it.
          socket.close(WS_CLOSE_CODES.internalError, 'Internal error');
          return;
        }
        state = this.open(core, socket, handshake);
      }
      const { store, handshakeContext } = state;
      core.cls.runWith(store, () => otelContext.with(handshakeContext, () => callback(socket, req)));
    });
  }

  override bindClientDisconnect(client: WebSocket, callback: (...args: unknown[]) => void): void {
    const state = getConnectionState(client);
    if (!state) return super.bindClientDisconnect(client, callback);
    const core = this.resolveCore();
    client.once('close', (...args: unknown[]) => {
      core.cls.runWith(state.store, () => otelContext.with(state.handshakeContext, () => callback(...args)));
    });
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const state = getConnectionState(client);
    if (!state) return super.bindMessageHandlers(client, handlers, transform);
    const { dispatcher } = this.resolveCore();
    for (const handler of handlers) dispatcher.register(state, String(handler.message), handler.callback as (data: unknown, second: unknown) => unknown);
    client.on('message', (data: RawData, isBinary: boolean) => dispatcher.receive(state, isBinary ? undefined : data, byteLength(data)));
  }

  /** Turns an accepted socket into a core connection and maps its events onto the lifecycle. */
  private open(core: Core, socket: WebSocket, handshake: WsAcceptedHandshake): WsConnectionState {
    const { lifecycle } = core;
    const state = lifecycle.open(new WsSocketConnection(socket), handshake);
    socket.on('pong', () => lifecycle.heard(state));
    socket.on('ping', (data: Buffer) => {
      if (lifecycle.pinged(state)) socket.pong(data);
    });
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === PAYLOAD_TOO_LARGE) lifecycle.payloadTooLarge(state);
      else lifecycle.protocolError(state, err, err.code === INVALID_UTF8 ? WS_CLOSE_CODES.invalidPayload : WS_CLOSE_CODES.protocolError);
    });
    socket.once('close', (code: number, reason: Buffer) => lifecycle.closed(state, code, reason.toString('utf8')));
    return state;
  }

  private verify(core: Core, req: IncomingMessage, path: string, done: VerifyCallback): void {
    core.guard.check(handshakeRequestOf(req), path).then(
      (outcome) => {
        if (outcome.accepted) {
          // A client that leaves before the 101, or already left while the check ran, gives
          // its slot back (ws then opens nothing).
          holdHandshake(req, outcome, req.socket, req.socket.destroyed, () => core.guard.abandon(outcome));
          done(true);
        } else {
          const headers: Record<string, string> = { 'X-Trace-ID': outcome.traceId };
          if (outcome.retryAfterSeconds !== undefined) headers['Retry-After'] = String(outcome.retryAfterSeconds);
          done(false, outcome.status, outcome.hint ?? STATUS_CODES[outcome.status], headers);
        }
      },
      () => done(false, 500, STATUS_CODES[500]),
    );
  }

  private resolveCore(): Core {
    return (this.core ??= resolveTransportCore(this.app, 'TracingWsAdapter'));
  }
}

/** The upgrade request as the core's guard reads it. */
function handshakeRequestOf(req: IncomingMessage): WsHandshakeRequest {
  return { headers: req.headers, url: req.url ?? '/', remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, transport: 'ws', auth: undefined, raw: req };
}

/** The core states of a server's sockets (those this adapter accepted). */
function* statesOf(server: WebSocketServer): Generator<WsConnectionState> {
  for (const socket of server.clients) {
    const state = getConnectionState(socket);
    if (state) yield state;
  }
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function normalizeGatewayPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') return '/';
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}
