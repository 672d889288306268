import type { INestApplicationContext } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { WsAdapter } from '@nestjs/platform-ws';
import { context as otelContext } from '@opentelemetry/api';
import { ClsService } from 'nestjs-cls';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Observable } from 'rxjs';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { WsConnectionLifecycle } from './context/ws-connection.lifecycle.js';
import { getConnectionState, type WsHandlerEntry } from './context/ws-connection.state.js';
import { WsHandshakeGuard, type WsAcceptedHandshake } from './handshake/ws-handshake.guard.js';
import { WsTracingInterceptor } from './messages/ws-tracing.interceptor.js';
import { WsLogger } from './telemetry/ws.logger.js';
import { HANDSHAKE_RESULT, RESOLVED_OPTIONS } from './tracing-ws.internal-constants.js';
import type { ResolvedTracingWsOptions } from './tracing-ws.options.js';

type UpgradeRequest = IncomingMessage & { [HANDSHAKE_RESULT]?: WsAcceptedHandshake };
type VerifyCallback = (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

interface Runtime {
  readonly options: ResolvedTracingWsOptions;
  readonly guard: WsHandshakeGuard;
  readonly lifecycle: WsConnectionLifecycle;
  readonly interceptor: WsTracingInterceptor;
  readonly cls: ClsService;
  readonly log: WsLogger;
}

const BEARER_SUBPROTOCOL = 'bearer.';

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
    return server;
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

  private verify(rt: Runtime, req: UpgradeRequest, path: string, done: VerifyCallback): void {
    rt.guard.check(req, path).then(
      (outcome) => {
        if (outcome.accepted) {
          req[HANDSHAKE_RESULT] = outcome;
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
