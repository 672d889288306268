import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { context as otelContext } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Observable } from 'rxjs';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { WsConnectionLifecycle } from '../../core/lifecycle/ws-connection.lifecycle.js';
import { getConnectionState, type WsHandlerEntry } from '../../core/connection/ws-connection.state.js';
import { WsHandshakeGuard, type WsAcceptedHandshake } from '../../core/handshake/ws-handshake.guard.js';
import { WsTracingInterceptor } from '../../core/dispatch/ws-message.dispatcher.js';
import { WsFrameSender } from '../../core/dispatch/ws-frame.sender.js';
import { WS_CLOSE_CODES } from '../../core/model/ws-protocol.js';
import { WsAdmission } from '../../core/policy/ws-admission.js';
import { WS_LOG_FIELDS, WS_LOG_MESSAGES } from '../../core/model/tracing-ws.names.js';
import { connectionLogFields } from '../../core/telemetry/ws-log.mixin.js';
import { WsLogger } from '../../core/telemetry/ws.logger.js';
import { WsMetrics } from '../../core/telemetry/ws.metrics.js';
import { HANDSHAKE_RESULT, RESOLVED_OPTIONS } from '../../core/model/tracing-ws.tokens.js';
import type { ResolvedTracingWsOptions } from '../../core/options/tracing-ws.options.js';

type UpgradeRequest = IncomingMessage & { [HANDSHAKE_RESULT]?: WsAcceptedHandshake };
type VerifyCallback = (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

interface Runtime {
  readonly options: ResolvedTracingWsOptions;
  readonly admission: WsAdmission;
  readonly metrics: WsMetrics;
  readonly sender: WsFrameSender;
  readonly guard: WsHandshakeGuard;
  readonly lifecycle: WsConnectionLifecycle;
  readonly interceptor: WsTracingInterceptor;
  readonly cls: ClsService;
  readonly log: WsLogger;
}

const BEARER_SUBPROTOCOL = 'bearer.';
/** Handshakes that reached the 101; the others give their slot back when their socket closes. */
const connectedHandshakes = new WeakSet<WsAcceptedHandshake>();

/**
 * The `@nestjs/platform-ws` adapter with the handshake guard before every 101,
 * connection lifecycle telemetry, and traced dispatch of every frame.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new TracingWsAdapter(app));
 */
export class TracingWsAdapter extends WsAdapter {
  private runtime: Runtime | undefined;
  private readonly heartbeats = new Map<WebSocketServer, NodeJS.Timeout>();
  private readonly paths = new Map<WebSocketServer, string>();

  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override create(port: number, options?: Record<string, unknown> & { path?: string; server?: unknown; namespace?: string }): WebSocketServer {
    const rt = this.resolveRuntime();
    const path = normalizeGatewayPath(options?.path);
    const server: WebSocketServer = super.create(port, {
      ...options,
      maxPayload: (options?.maxPayload as number | undefined) ?? rt.options.maxPayloadBytes,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) => this.verify(rt, info.req as UpgradeRequest, path, done),
      // A bearer token offered as a subprotocol is a credential, never the protocol
      // to select: pick another offered one (browsers refuse a 101 that selects none).
      handleProtocols: (protocols: Set<string>) => {
        for (const p of protocols) if (!p.startsWith(BEARER_SUBPROTOCOL)) return p;
        return false;
      },
    } as Parameters<WsAdapter['create']>[1]);
    server.on('headers', (headers: string[], req: UpgradeRequest) => {
      const handshake = req[HANDSHAKE_RESULT];
      if (handshake) headers.push(`X-Trace-ID: ${handshake.traceId}`);
    });
    this.paths.set(server, path);
    this.startHeartbeat(rt, server, path);
    return server;
  }

  /**
   * Graceful shutdown of one gateway server (Nest calls it on `app.close()`):
   * new upgrades get 503 and new frames an error, in-flight handlers finish and
   * their replies go out, every client gets close 1001, and whoever has not
   * closed when `shutdown.timeoutMs` runs out is terminated.
   */
  override async close(server: WebSocketServer): Promise<void> {
    const rt = this.resolveRuntime();
    const deadline = Date.now() + rt.options.shutdown.timeoutMs;
    const heartbeat = this.heartbeats.get(server);
    if (heartbeat) clearInterval(heartbeat);
    this.heartbeats.delete(server);
    const log = rt.log.logger;
    if (log.isLevelEnabled('info')) log.info({ [WS_LOG_FIELDS.path]: this.paths.get(server), [WS_LOG_FIELDS.clients]: server.clients.size }, WS_LOG_MESSAGES.shutdown);
    await rt.admission.drain(rt.options.shutdown.timeoutMs);
    const clients = [...server.clients];
    const closed = clients.map((socket) => new Promise<void>((resolve) => {
      if (socket.readyState === socket.CLOSED) return resolve();
      socket.once('close', () => resolve());
      socket.close(WS_CLOSE_CODES.goingAway, 'Server shutting down');
    }));
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  override bindClientConnect(server: WebSocketServer, callback: (...args: unknown[]) => void): void {
    const rt = this.resolveRuntime();
    server.on('connection', (socket: WebSocket, req: UpgradeRequest) => {
      let state = getConnectionState(socket);
      if (!state) {
        const handshake = req[HANDSHAKE_RESULT];
        if (!handshake) {
          // Only a server built outside this adapter gets here: nothing vouches for it.
          socket.close(1011, 'Internal error');
          return;
        }
        connectedHandshakes.add(handshake);
        state = rt.lifecycle.open(socket, handshake);
      }
      const { store, handshakeContext } = state;
      rt.cls.runWith(store, () => otelContext.with(handshakeContext, () => callback(socket, req)));
    });
  }

  override bindClientDisconnect(client: WebSocket, callback: (...args: unknown[]) => void): void {
    const rt = this.resolveRuntime();
    const state = getConnectionState(client);
    if (!state) return super.bindClientDisconnect(client, callback);
    client.once('close', (...args: unknown[]) => {
      rt.cls.runWith(state.store, () => otelContext.with(state.handshakeContext, () => callback(...args)));
    });
  }

  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const state = getConnectionState(client);
    if (!state) return super.bindMessageHandlers(client, handlers, transform);
    const rt = this.resolveRuntime();
    for (const handler of handlers) {
      const event = String(handler.message);
      const entry: WsHandlerEntry = {
        callback: handler.callback as WsHandlerEntry['callback'],
        spanName: `process ${event}`,
        metrics: state.metrics.event(event),
      };
      state.handlers.set(event, entry);
    }
    const { interceptor } = rt;
    client.on('message', (data: RawData, isBinary: boolean) => interceptor.onFrame(state, data, isBinary));
  }

  /** Pings every client each interval; one that has not answered since the last tick is terminated. */
  private startHeartbeat(rt: Runtime, server: WebSocketServer, path: string): void {
    const { intervalMs } = rt.options.heartbeat;
    if (intervalMs === 0) return;
    const timer = setInterval(() => {
      const now = performance.now();
      for (const socket of server.clients) {
        const state = getConnectionState(socket);
        if (!state) continue;
        // A socket that does not read is judged by the backpressure rule (its input is
        // paused, so its pongs cannot arrive): closed with 1013 once it has been stuck too long.
        if (rt.sender.congested(state, now)) continue;
        if (!state.alive) {
          state.metrics.heartbeatTimeouts.inc();
          const log = rt.log.logger;
          if (log.isLevelEnabled('warn')) {
            log.warn({ ...connectionLogFields(state.context), [WS_LOG_FIELDS.traceId]: state.context.traceId, [WS_LOG_FIELDS.path]: path }, WS_LOG_MESSAGES.heartbeatTimeout);
          }
          socket.terminate();
          continue;
        }
        state.alive = false;
        socket.ping();
      }
    }, intervalMs);
    timer.unref();
    this.heartbeats.set(server, timer);
  }

  private verify(rt: Runtime, req: UpgradeRequest, path: string, done: VerifyCallback): void {
    rt.guard.check(req, path).then(
      (outcome) => {
        if (outcome.accepted) {
          req[HANDSHAKE_RESULT] = outcome;
          // An upgrade abandoned between the check and the 101 gives its slot back.
          req.socket.once('close', () => {
            if (!connectedHandshakes.has(outcome)) {
              rt.admission.release(outcome.remoteAddress);
              outcome.span.end();
            }
          });
          done(true);
        } else {
          done(false, outcome.status, STATUS_CODES[outcome.status], { 'X-Trace-ID': outcome.traceId });
        }
      },
      () => done(false, 500, STATUS_CODES[500]),
    );
  }

  private resolveRuntime(): Runtime {
    if (this.runtime) return this.runtime;
    let options: ResolvedTracingWsOptions;
    try {
      options = this.app.get<ResolvedTracingWsOptions>(RESOLVED_OPTIONS, { strict: false });
    } catch {
      throw new Error('TracingWsAdapter: TracingWsModule is not imported. Add TracingWsModule.forRoot() (or forRootAsync) to the imports of your root module.');
    }
    const get = <T>(token: abstract new (...args: never[]) => T): T => this.app.get(token as never, { strict: false }) as T;
    this.runtime = {
      options,
      admission: get(WsAdmission),
      metrics: get(WsMetrics),
      sender: get(WsFrameSender),
      guard: get(WsHandshakeGuard),
      lifecycle: get(WsConnectionLifecycle),
      interceptor: get(WsTracingInterceptor),
      cls: get(ClsService),
      log: get(WsLogger),
    };
    return this.runtime;
  }
}

function normalizeGatewayPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') return '/';
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}
