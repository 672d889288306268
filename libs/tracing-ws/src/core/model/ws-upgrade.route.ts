import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * One transport server's share of the app's HTTP `upgrade` requests, for an
 * adapter that serves several transports on one HTTP server and so must route
 * each upgrade to the one server that owns it (each transport's own listener
 * would destroy the others' upgrades). Built by each transport
 * (`wsUpgradeRoute`, `ioUpgradeRoute`) with its platform's own path rule. Internal.
 */
export interface WsUpgradeRoute {
  /** The transport, for messages. */
  readonly transport: 'ws' | 'socket.io';
  /** The transport server the upgrades go to: one route per server. */
  readonly server: object;
  /** The path it serves (ws: the gateway path; socket.io: the engine path), for messages. */
  readonly path: string;
  /** True when this server takes the request, by the same rule its platform applies. */
  owns(req: IncomingMessage): boolean;
  /** Hands the upgrade over: the server answers it, 101 or refusal. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}
