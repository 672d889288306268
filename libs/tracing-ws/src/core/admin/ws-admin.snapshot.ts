import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsTransportName } from '../model/ws-transport.js';

/** One live connection as the admin connections API lists it (from its own instance; `null` where nothing is known). */
export interface WsAdminConnection {
  readonly connectionId: string;
  /** The session's trace id (the handshake's: what the client got as `X-Trace-ID`). */
  readonly traceId: string;
  readonly userId: string | null;
  readonly instanceId: string;
  readonly path: string;
  readonly transport: WsTransportName;
  /** The client address as trusted (`trustProxy`). */
  readonly remoteAddress: string | null;
  readonly userAgent: string | null;
  /** ISO 8601. */
  readonly openedAt: string;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly rooms: string[];
  /** The code of the last error frame the client was sent, if any. */
  readonly lastErrorCode: string | null;
}

/** Which connections a listing wants. */
export interface WsAdminFilter {
  readonly user?: string;
  readonly connection?: string;
  readonly path?: string;
  readonly transport?: WsTransportName;
}

/** Connections one instance reports at most: a listing is for finding sessions, not for exporting them. */
export const MAX_LISTED_PER_INSTANCE = 1000;

export function matches(state: WsConnectionState, filter: WsAdminFilter): boolean {
  const { context } = state;
  return (
    !state.closed &&
    (filter.user === undefined || context.user?.id === filter.user) &&
    (filter.connection === undefined || context.connectionId === filter.connection) &&
    (filter.path === undefined || context.path === filter.path) &&
    (filter.transport === undefined || context.transport === filter.transport)
  );
}

export function snapshot(state: WsConnectionState, rooms: Iterable<string>, instanceId: string): WsAdminConnection {
  const { context } = state;
  return {
    connectionId: context.connectionId,
    traceId: context.traceId,
    userId: context.user?.id ?? null,
    instanceId,
    path: context.path,
    transport: context.transport,
    remoteAddress: context.remoteAddress ?? null,
    userAgent: context.userAgent ?? null,
    openedAt: new Date(context.openedAt).toISOString(),
    messagesIn: state.messagesIn,
    messagesOut: state.messagesOut,
    bytesIn: state.bytesIn,
    bytesOut: state.bytesOut,
    rooms: [...rooms],
    lastErrorCode: state.lastErrorCode ?? null,
  };
}
