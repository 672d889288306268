import type { WsConnectionState } from '../connection/ws-connection.state.js';

const EMPTY: ReadonlySet<WsConnectionState> = new Set();

/**
 * The sockets of this process, indexed by room and by user, so that every kind
 * of broadcast walks exactly its recipients (no filtering, no copies). Internal.
 */
export class WsLocalRegistry {
  readonly connections = new Set<WsConnectionState>();
  private readonly rooms = new Map<string, Set<WsConnectionState>>();
  private readonly users = new Map<string, Set<WsConnectionState>>();
  private readonly byId = new Map<string, ReadonlySet<WsConnectionState>>();
  private readonly memberships = new WeakMap<WsConnectionState, Set<string>>();

  add(state: WsConnectionState): void {
    this.connections.add(state);
    this.byId.set(state.context.connectionId, new Set([state]));
    const userId = state.context.user?.id;
    if (userId !== undefined) addTo(this.users, userId, state);
  }

  /** Forgets `state`; returns the rooms it was in. */
  remove(state: WsConnectionState): string[] {
    this.connections.delete(state);
    this.byId.delete(state.context.connectionId);
    const userId = state.context.user?.id;
    if (userId !== undefined) deleteFrom(this.users, userId, state);
    const rooms = [...(this.memberships.get(state) ?? [])];
    for (const room of rooms) this.leave(state, room);
    return rooms;
  }

  /** Returns false when `state` was already in `room`. */
  join(state: WsConnectionState, room: string): boolean {
    let joined = this.memberships.get(state);
    if (!joined) this.memberships.set(state, (joined = new Set()));
    if (joined.has(room)) return false;
    joined.add(room);
    addTo(this.rooms, room, state);
    return true;
  }

  /** Returns false when `state` was not in `room`. */
  leave(state: WsConnectionState, room: string): boolean {
    if (!this.memberships.get(state)?.delete(room)) return false;
    deleteFrom(this.rooms, room, state);
    return true;
  }

  roomsOf(state: WsConnectionState): ReadonlySet<string> {
    return this.memberships.get(state) ?? (EMPTY as ReadonlySet<never>);
  }

  room(room: string): ReadonlySet<WsConnectionState> {
    return this.rooms.get(room) ?? EMPTY;
  }

  user(userId: string): ReadonlySet<WsConnectionState> {
    return this.users.get(userId) ?? EMPTY;
  }

  /** The connection with id `connectionId`, as a set of zero or one, like the other audiences. */
  connection(connectionId: string): ReadonlySet<WsConnectionState> {
    return this.byId.get(connectionId) ?? EMPTY;
  }

  /** Every room with at least one local member. */
  roomNames(): IterableIterator<string> {
    return this.rooms.keys();
  }
}

function addTo(index: Map<string, Set<WsConnectionState>>, key: string, state: WsConnectionState): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(state);
}

function deleteFrom(index: Map<string, Set<WsConnectionState>>, key: string, state: WsConnectionState): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(state);
  if (set.size === 0) index.delete(key);
}
