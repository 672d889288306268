import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WsUpgradeRoute } from '../core/model/ws-upgrade.route.js';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The one `upgrade` listener of an HTTP server that ws and socket.io gateways share.
 * Each platform's own listener also decides about upgrades it does not own:
 * `@nestjs/platform-ws` destroys them at once, engine.io ends them after
 * `destroyUpgradeTimeout` (1 s), which kills a ws upgrade whose `authenticate` is
 * slower. The router takes those listeners off the server and hands each upgrade to
 * the one route that owns it; an upgrade nobody owns is answered 404 (unless the app
 * has upgrade listeners of its own, which then decide).
 */
export class UpgradeRouter {
  private readonly routes: WsUpgradeRoute[] = [];
  private readonly listener: UpgradeListener = (req, socket, head) => this.route(req, socket, head);
  private attached = false;

  constructor(private readonly server: HttpServer) {}

  /** Runs `create` (an adapter's `create`) and takes off the server the upgrade listeners it added. */
  capture<T>(create: () => T): T {
    const before = new Set(this.server.listeners('upgrade'));
    try {
      return create();
    } finally {
      for (const listener of this.server.listeners('upgrade')) {
        if (!before.has(listener)) this.server.off('upgrade', listener as UpgradeListener);
      }
      if (!this.attached) {
        this.server.on('upgrade', this.listener);
        this.attached = true;
      }
    }
  }

  /** Adds the route of a server (once); a path another route would also take is a configuration error. */
  add(route: WsUpgradeRoute): void {
    if (this.routes.some((r) => r.server === route.server)) return;
    for (const other of this.routes) {
      if (other.owns(probe(route.path)) || route.owns(probe(other.path))) {
        throw new Error(
          `TracingCompositeAdapter: the ${route.transport} gateway path "${route.path}" overlaps the ${other.transport} path "${other.path}" on the same HTTP server. Give one of them another \`path\` in @WebSocketGateway().`,
        );
      }
    }
    this.routes.push(route);
  }

  /** Gives the server back (`dispose`). */
  detach(): void {
    this.server.off('upgrade', this.listener);
    this.attached = false;
  }

  private route(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let route: WsUpgradeRoute | undefined;
    try {
      route = this.routes.find((r) => r.owns(req));
    } catch {
      return refuse(socket, 400);
    }
    if (route) return route.handle(req, socket, head);
    if (this.server.listenerCount('upgrade') > 1) return;
    refuse(socket, 404);
  }
}

/** A request for `path`, to ask a route whether it would take it. */
function probe(path: string): IncomingMessage {
  return { url: path, headers: {} } as IncomingMessage;
}

/** Answers an upgrade with an HTTP status and closes the socket, as ws refuses a handshake. */
function refuse(socket: Duplex, status: number): void {
  socket.on('error', () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_CODES[status] ?? '';
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}
