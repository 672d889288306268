/** Where a broadcast goes. */
export interface WsBroadcastTarget {
  /**
   * Sends `{event, data, meta: {traceId}}` to every socket of the target, here
   * and (with a Redis backend) on every other instance. Never throws because of
   * the backend. Returns how many sockets of this process got it; other
   * instances deliver asynchronously. A room broadcast with a Redis room history
   * (`broadcast.history`) is delivered here too once Redis has numbered it: the
   * count is then the room's local members when it was published.
   */
  emit(event: string, data: unknown): number;
}

/** A socket in a room, on some instance. */
export interface WsRoomMember {
  readonly connectionId: string;
  readonly instanceId: string;
  readonly userId: string | undefined;
}

/** An open socket, on some instance, with its rooms. */
export interface WsOnlineConnection extends WsRoomMember {
  readonly rooms: readonly string[];
}

/** Health of the broadcast backend, for `/health` endpoints. */
export interface WsBroadcastBackendState {
  /** `memory`: this process only; `redis`: every instance sharing the Redis. */
  readonly backend: 'memory' | 'redis';
  /** False while Redis is unreachable: local delivery goes on, other instances are not reached. */
  readonly up: boolean;
  readonly instanceId: string;
}

/** Presence answers, with whether other instances could be asked. */
export interface WsPresenceResult<T> {
  readonly items: T[];
  /** False when Redis was unreachable and only this instance's sockets are listed. */
  readonly complete: boolean;
}

/** Who a broadcast is for. */
export type WsBroadcastAudience = 'room' | 'user' | 'connection' | 'all';
