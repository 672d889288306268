import { Inject, Injectable } from '@nestjs/common';
import { WS_LIVE_FIELDS as LF, WS_LOG_FIELDS as F } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import type { WsLogLevel, ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/** One live trace event, as an SSE `data:` line carries it (snake_case field names, `type` first). */
export type WsLiveEvent = Record<string, unknown>;

/** What receives the events of one watch on this instance (the admin surface makes them). Internal. */
export interface WsLiveSubscriber {
  /** Also give it the message's payload (redacted by the subscriber). */
  readonly payloads: boolean;
  /** Never throws, never blocks: a subscriber drops what it cannot take at once. */
  deliver(event: WsLiveEvent, payload: unknown): void;
}

/** Who a watch or a debug session is about: one user, or one connection. */
export interface WsLiveTarget {
  readonly user?: string;
  readonly connection?: string;
}

interface DebugSession {
  readonly level: WsLogLevel;
  readonly until: number;
}

/**
 * The hot-path tap of the admin surface: the dispatcher, the frame sender and the
 * lifecycle report what happens to a connection here, and the tap hands it to the
 * watches of its user or connection, and tells whether a per-user debug session
 * raises its message lines. When nobody watches and nobody debugs, `hot` is false
 * and callers build nothing: the cost per message is that one boolean read.
 * Internal; filled by `TracingWsAdminModule`, empty without it.
 */
@Injectable()
export class WsLiveTap {
  /** Something is watched or debugged on this instance: callers check this before building an event. */
  hot = false;
  private readonly instanceId: string;
  private readonly byUser = new Map<string, Set<WsLiveSubscriber>>();
  private readonly byConnection = new Map<string, Set<WsLiveSubscriber>>();
  private readonly debugUsers = new Map<string, DebugSession>();
  private readonly debugConnections = new Map<string, DebugSession>();

  constructor(@Inject(RESOLVED_OPTIONS) options: ResolvedTracingWsOptions) {
    this.instanceId = options.broadcast.instanceId;
  }

  /** Starts sending the events of `target` to `subscriber`; returns what stops it. */
  subscribe(target: WsLiveTarget, subscriber: WsLiveSubscriber): () => void {
    const [index, key] = this.indexOf(target, this.byUser, this.byConnection);
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(subscriber);
    this.update();
    return () => {
      const current = index.get(key);
      if (current?.delete(subscriber) && current.size === 0) index.delete(key);
      this.update();
    };
  }

  /** Raises the message lines of `target` to `level` until `until` (ms since the epoch); undefined level ends it. */
  debug(target: WsLiveTarget, level: WsLogLevel | undefined, until = 0): void {
    const [index, key] = this.indexOf(target, this.debugUsers, this.debugConnections);
    if (level === undefined) index.delete(key);
    else index.set(key, { level, until });
    this.update();
  }

  /** The level a debug session sets for the message lines of `context`, if one runs. Call only when `hot`. */
  debugLevel(context: WsConnectionContext): WsLogLevel | undefined {
    const session = this.debugConnections.get(context.connectionId) ?? (context.user ? this.debugUsers.get(context.user.id) : undefined);
    if (session === undefined) return undefined;
    if (session.until > Date.now()) return session.level;
    // Expired: ended here, whatever happened to the timer that should have ended it.
    this.debugConnections.delete(context.connectionId);
    if (context.user) this.debugUsers.delete(context.user.id);
    this.update();
    return undefined;
  }

  /**
   * Hands `fields` (with `type`) about `context` to the watches of its user and
   * connection, stamped with who and when. `payload` goes only to the watches that
   * asked for payloads. Call only when `hot`.
   */
  emit(context: WsConnectionContext, type: string, fields: WsLiveEvent, payload?: unknown): void {
    const forUser = context.user ? this.byUser.get(context.user.id) : undefined;
    const forConnection = this.byConnection.get(context.connectionId);
    if (forUser === undefined && forConnection === undefined) return;
    const event: WsLiveEvent = {
      [LF.type]: type,
      [LF.at]: Date.now(),
      [F.instanceId]: this.instanceId,
      [F.connectionId]: context.connectionId,
      [F.connectionTraceId]: context.traceId,
      [F.userId]: context.user?.id,
      [F.path]: context.path,
      [F.transport]: context.transport,
      ...fields,
    };
    if (forUser) for (const s of forUser) s.deliver(event, s.payloads ? payload : undefined);
    if (forConnection) for (const s of forConnection) if (!forUser?.has(s)) s.deliver(event, s.payloads ? payload : undefined);
  }

  /** Hands an event about a user that has no connection yet (a refused handshake) to the watches of that user. */
  emitForUser(userId: string, type: string, fields: WsLiveEvent): void {
    const forUser = this.byUser.get(userId);
    if (!forUser) return;
    const event: WsLiveEvent = { [LF.type]: type, [LF.at]: Date.now(), [F.instanceId]: this.instanceId, [F.userId]: userId, ...fields };
    for (const s of forUser) s.deliver(event, undefined);
  }

  private indexOf<V>(target: WsLiveTarget, users: Map<string, V>, connections: Map<string, V>): [Map<string, V>, string] {
    if (target.connection !== undefined) return [connections, target.connection];
    if (target.user !== undefined) return [users, target.user];
    throw new Error('WsLiveTap: a target names a user or a connection');
  }

  private update(): void {
    this.hot = this.byUser.size + this.byConnection.size + this.debugUsers.size + this.debugConnections.size > 0;
  }
}
