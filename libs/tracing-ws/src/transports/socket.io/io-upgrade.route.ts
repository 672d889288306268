import type { Namespace, Server } from 'socket.io';
import type { WsUpgradeRoute } from '../../core/model/ws-upgrade.route.js';

/**
 * The upgrades of one socket.io server (given it or one of its namespaces) on the app's
 * HTTP server: the URL starts with engine.io's path (`/socket.io/` by default), as
 * engine.io's own upgrade listener decides.
 */
export function ioUpgradeRoute(created: Server | Namespace): WsUpgradeRoute {
  const server = 'engine' in created ? created : created.server;
  const { opts } = server.engine as unknown as { opts: { path?: string; addTrailingSlash?: boolean } };
  // engine.io's `_computePath`: the path without its trailing slash, then one added back unless turned off.
  const path = (opts.path ?? server.path()).replace(/\/$/, '') + (opts.addTrailingSlash === false ? '' : '/');
  return {
    transport: 'socket.io',
    server,
    path,
    owns: (req) => (req.url ?? '/').startsWith(path),
    handle: (req, socket, head) => server.engine.handleUpgrade(req, socket, head),
  };
}
