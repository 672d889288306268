import type { INestApplicationContext } from '@nestjs/common';
import { AbstractWsAdapter, type MessageMappingProperties } from '@nestjs/websockets';
import type { Server as HttpServer } from 'node:http';
import type { Observable } from 'rxjs';
import type { WsTransportName } from '../core/model/ws-transport.js';
import { ioUpgradeRoute } from '../transports/socket.io/io-upgrade.route.js';
import { TracingIoAdapter } from '../transports/socket.io/tracing-io.adapter.js';
import { TracingWsAdapter } from '../transports/ws/tracing-ws.adapter.js';
import { wsUpgradeRoute } from '../transports/ws/ws-upgrade.route.js';
import { UpgradeRouter } from './upgrade.router.js';

/** Options of {@link TracingCompositeAdapter}. */
export interface TracingCompositeAdapterOptions {
  /**
   * The transport of a gateway whose `@WebSocketGateway()` options name none (no `transport`).
   * @defaultValue `'ws'`
   */
  defaultTransport?: WsTransportName;
}

/** `@WebSocketGateway()` options as Nest hands them to an adapter, with the composite's `transport`. */
type GatewayOptions = Record<string, unknown> & { transport?: unknown; namespace?: unknown; server?: unknown; path?: unknown };
type Delegate = TracingWsAdapter | TracingIoAdapter;
type Callback = (...args: unknown[]) => void;

const TRANSPORTS: readonly WsTransportName[] = ['ws', 'socket.io'];

/**
 * ws gateways and socket.io gateways in one app, on one HTTP server (Nest takes one
 * WebSocket adapter per app). Each gateway says its transport in its options,
 * `@WebSocketGateway({ path: '/ws', transport: 'ws' })` or
 * `@WebSocketGateway({ namespace: '/chat', transport: 'socket.io' })` (default:
 * `defaultTransport`), and is served by {@link TracingWsAdapter} or
 * {@link TracingIoAdapter} with everything they give: the handshake guard, the
 * lifecycle, dispatch, telemetry, graceful shutdown. One upgrade router hands each
 * HTTP upgrade to the server that owns its path, so neither platform destroys the
 * other's upgrades (engine.io would end a ws upgrade whose `authenticate` takes over
 * 1 s); an upgrade to a path nobody serves is answered 404.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new TracingCompositeAdapter(app));
 */
export class TracingCompositeAdapter extends AbstractWsAdapter {
  private readonly ws: TracingWsAdapter;
  private readonly io: TracingIoAdapter;
  private readonly router: UpgradeRouter | undefined;
  private readonly defaultTransport: WsTransportName;
  /** The adapter that made each server or namespace, and the one that accepted each client. */
  private readonly owners = new WeakMap<object, Delegate>();

  constructor(app: INestApplicationContext, options: TracingCompositeAdapterOptions = {}) {
    super(app);
    const defaultTransport = options.defaultTransport ?? 'ws';
    if (!TRANSPORTS.includes(defaultTransport)) {
      throw new Error(`TracingCompositeAdapter: defaultTransport must be 'ws' or 'socket.io', got ${JSON.stringify(defaultTransport)}.`);
    }
    this.defaultTransport = defaultTransport;
    this.ws = new TracingWsAdapter(app);
    this.io = new TracingIoAdapter(app);
    const http = this.httpServer as HttpServer | undefined;
    this.router = http ? new UpgradeRouter(http) : undefined;
  }

  override set forceCloseConnections(value: boolean) {
    super.forceCloseConnections = value;
    this.ws.forceCloseConnections = value;
    this.io.forceCloseConnections = value;
  }

  override get forceCloseConnections(): boolean {
    return super.forceCloseConnections;
  }

  override create(port: number, options?: GatewayOptions): object {
    const { transport, ...rest } = options ?? {};
    const delegate = this.delegateFor(transport, rest);
    const make = (): object => delegate.create(port, rest as never) as object;
    // Gateways on their own port (not the app's HTTP server) each have a server of their own.
    const onAppServer = port === 0 && this.router !== undefined;
    const created = onAppServer ? this.router!.capture(make) : make();
    this.owners.set(created, delegate);
    if (onAppServer) {
      this.router!.add(delegate === this.ws ? wsUpgradeRoute(created as Parameters<typeof wsUpgradeRoute>[0]) : ioUpgradeRoute(created as Parameters<typeof ioUpgradeRoute>[0]));
    }
    return created;
  }

  override bindClientConnect(server: object, callback: Callback): void {
    const delegate = this.ownerOf(server);
    delegate.bindClientConnect(server as never, (...args: unknown[]) => {
      this.owners.set(args[0] as object, delegate);
      callback(...args);
    });
  }

  override bindClientDisconnect(client: object, callback: Callback): void {
    this.ownerOf(client).bindClientDisconnect(client as never, callback);
  }

  override bindMessageHandlers(client: object, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    this.ownerOf(client).bindMessageHandlers(client as never, handlers, transform);
  }

  /** Graceful shutdown of each server by the adapter that made it (Nest calls it on `app.close()`). */
  override async close(server: object): Promise<void> {
    await this.ownerOf(server).close(server as never);
  }

  override async dispose(): Promise<void> {
    this.router?.detach();
    await Promise.all([this.ws.dispose(), this.io.dispose()]);
  }

  private delegateFor(transport: unknown, options: GatewayOptions): Delegate {
    // Nest's second call for a namespace passes the server it made for the gateway first.
    const existing = typeof options.server === 'object' && options.server !== null ? this.owners.get(options.server) : undefined;
    const chosen = transport ?? (existing ? undefined : this.defaultTransport);
    if (chosen !== undefined && !TRANSPORTS.includes(chosen as WsTransportName)) {
      throw new Error(`TracingCompositeAdapter: unknown transport ${JSON.stringify(chosen)} in @WebSocketGateway() options; use 'ws' or 'socket.io'.`);
    }
    const delegate = existing ?? (chosen === 'socket.io' ? this.io : this.ws);
    if (existing && chosen !== undefined && (chosen === 'ws') !== (existing === this.ws)) {
      throw new Error(
        `TracingCompositeAdapter: a ${String(chosen)} gateway got the server of a gateway of the other transport: Nest shares one server between gateways with the same \`path\`. Give them different paths.`,
      );
    }
    if (delegate === this.ws && !existing && options.path === undefined) {
      // Without a path, Nest would also hand this ws server to a socket.io gateway without one.
      throw new Error(
        `TracingCompositeAdapter: a ws gateway needs a \`path\` in @WebSocketGateway() (a socket.io gateway says \`transport: 'socket.io'\`; gateways without a \`transport\` use '${this.defaultTransport}').`,
      );
    }
    return delegate;
  }

  private ownerOf(serverOrClient: object): Delegate {
    const owner = this.owners.get(serverOrClient);
    if (!owner) throw new Error('TracingCompositeAdapter: a server or client this adapter did not create.');
    return owner;
  }
}
