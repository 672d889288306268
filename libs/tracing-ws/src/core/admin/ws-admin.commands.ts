import type { WsLogLevel } from '../options/tracing-ws.options.js';
import { WS_ADMIN_DEBUG_LEVELS } from '../options/tracing-ws-admin.options.js';
import type { WsLiveTarget } from '../telemetry/ws-live.tap.js';
import { isServerCloseCode } from '../model/ws-protocol.js';
import type { WsTransportName } from '../model/ws-transport.js';
import { readId } from './ws-admin.ids.js';
import type { WsWatchSpec } from './ws-admin.instance.js';
import type { WsAdminFilter } from './ws-admin.snapshot.js';
import type { WsAdminCommand } from './redis-admin.bus.js';

/** A command, checked again where it runs: it came through Redis, from whoever can publish there. */
export type WsReadCommand =
  | { kind: 'list'; filter: WsAdminFilter }
  | { kind: 'disconnect'; target: WsLiveTarget; code: number; reason: string }
  | { kind: 'debug'; target: WsLiveTarget; level: WsLogLevel | undefined; until: number }
  | { kind: 'watch'; spec: WsWatchSpec; origin: string }
  | { kind: 'unwatch'; watchId: string };

const TRANSPORTS: readonly WsTransportName[] = ['ws', 'socket.io'];

function target(value: unknown): WsLiveTarget | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, connection } = value as Record<string, unknown>;
  if (connection !== undefined) return readId(connection) === undefined ? undefined : { connection: connection as string };
  if (user !== undefined) return readId(user) === undefined ? undefined : { user: user as string };
  return undefined;
}

function filter(value: unknown): WsAdminFilter | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { user, connection, path, transport } = value as Record<string, unknown>;
  if (user !== undefined && readId(user) === undefined) return undefined;
  if (connection !== undefined && readId(connection) === undefined) return undefined;
  if (path !== undefined && (typeof path !== 'string' || path.length > 128)) return undefined;
  if (transport !== undefined && !TRANSPORTS.includes(transport as WsTransportName)) return undefined;
  return { user: user as string | undefined, connection: connection as string | undefined, path: path as string | undefined, transport: transport as WsTransportName | undefined };
}

/** The command's checked content, or undefined when anything in it is off. */
export function readCommand(command: WsAdminCommand): WsReadCommand | undefined {
  const b = command.body;
  switch (command.kind) {
    case 'list': {
      const f = filter(b.filter);
      return f && { kind: 'list', filter: f };
    }
    case 'disconnect': {
      const t = target(b.target);
      const ok = t && typeof b.code === 'number' && isServerCloseCode(b.code) && typeof b.reason === 'string' && b.reason.length <= 123;
      return ok ? { kind: 'disconnect', target: t, code: b.code as number, reason: b.reason as string } : undefined;
    }
    case 'debug': {
      const t = target(b.target);
      const level = b.level === undefined || b.level === null ? undefined : WS_ADMIN_DEBUG_LEVELS.find((l) => l === b.level);
      if (!t || (b.level !== undefined && b.level !== null && level === undefined) || typeof b.until !== 'number') return undefined;
      return { kind: 'debug', target: t, level, until: b.until };
    }
    case 'watch': {
      const t = target(b.target);
      if (!t || readId(b.watchId) === undefined || readId(b.origin) === undefined || typeof b.until !== 'number' || typeof b.payloads !== 'boolean') return undefined;
      return { kind: 'watch', origin: b.origin as string, spec: { watchId: b.watchId as string, target: t, payloads: b.payloads, until: b.until } };
    }
    case 'unwatch':
      return readId(b.watchId) === undefined ? undefined : { kind: 'unwatch', watchId: b.watchId as string };
  }
}
