import type { WebSocketServer } from 'ws';
import type { WsUpgradeRoute } from '../../core/model/ws-upgrade.route.js';

/**
 * The upgrades of one gateway server on the app's HTTP server: the request's path
 * equals the gateway's `path` (normalised by `@nestjs/platform-ws`, which keeps it
 * on the server), as platform-ws's own upgrade listener decides.
 */
export function wsUpgradeRoute(server: WebSocketServer): WsUpgradeRoute {
  const path = (server as WebSocketServer & { path?: string }).path ?? '/';
  return {
    transport: 'ws',
    server,
    path,
    owns: (req) => new URL(req.url ?? '/', `ws://${req.headers.host ?? 'localhost'}/`).pathname === path,
    handle: (req, socket, head) => server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req)),
  };
}
