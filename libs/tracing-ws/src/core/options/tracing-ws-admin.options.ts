import type { CanActivate, Type } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { WsLogLevel } from './tracing-ws.options.js';

/** What the {@link TracingWsAdminOptions.canActivate} hook is given of an admin request. */
export interface WsAdminRequest {
  readonly method: string;
  /** The request's URL (path and query), as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Decides whether an admin request may proceed (may be async). `false` refuses it:
 * 401 when the request carries no `Authorization` header, else 403. A throw refuses
 * it too (403) and is logged without the request's headers.
 */
export type WsAdminAccessHook = (request: WsAdminRequest) => boolean | Promise<boolean>;

/** Options of `TracingWsAdminModule.forRoot()`: the opt-in admin surface (README, "Live operations"). */
export interface TracingWsAdminOptions {
  /**
   * Path prefix of the admin routes (`GET <path>/connections`, `GET <path>/trace`, ...),
   * without slashes at its ends; the app's global prefix applies as to its other routes.
   * @defaultValue `'admin'`
   */
  path?: string;
  /**
   * A Nest guard class run before every admin route (resolved by Nest in the admin
   * module: give its dependencies through `imports`, or make them global). At least
   * one of `guard` and `canActivate` is required: the module refuses to start without.
   * @defaultValue `undefined`
   */
  guard?: Type<CanActivate>;
  /** A function run before every admin route; see {@link WsAdminAccessHook}. @defaultValue `undefined` */
  canActivate?: WsAdminAccessHook;
  /** Modules the guard's dependencies come from. @defaultValue `[]` */
  imports?: Array<Type<unknown>>;
  /**
   * Let an operator ask a live trace for message payloads (`?payloads=1`), redacted by
   * `redactPaths`. Off: payloads never leave the instance, whatever is asked.
   * @defaultValue `false`
   */
  allowPayloads?: boolean;
  /**
   * Dot paths in a message payload whose values a live trace replaces with
   * `[redacted]` (`*` matches any key at its level, e.g. `*.password`).
   * @defaultValue `['password', 'token', 'secret', '*.password', '*.token', '*.secret']`
   */
  redactPaths?: string[];
  /**
   * Longest payload text a live trace event carries (characters, after redaction).
   * @defaultValue `1024`
   */
  maxPayloadChars?: number;
  /**
   * Live traces open at once on this instance; one more is refused with 429.
   * @defaultValue `10`
   */
  maxWatches?: number;
  /**
   * Longest a live trace stays open (its `durationMs` is capped to it); it then ends
   * with an `end` event.
   * @defaultValue `600000` (10 minutes)
   */
  maxWatchMs?: number;
  /**
   * Events per second one watch receives from each instance, and in total; past it,
   * events are dropped (counted in `ws_admin_trace_dropped_total`, and in the next
   * event's `dropped`), never queued and never slowing the watched user.
   * @defaultValue `100`
   */
  eventsPerSecond?: number;
  /**
   * Longest a per-user debug session (`POST <path>/debug`) raises message lines.
   * @defaultValue `900000` (15 minutes)
   */
  maxDebugMs?: number;
  /**
   * How long a request to every instance (connections, disconnect, watch, debug) waits
   * for their replies; an instance that has not answered by then is left out and the
   * answer says `complete: false`.
   * @defaultValue `1000`
   */
  requestTimeoutMs?: number;
}

/** The admin options after defaults and validation. Internal. */
export interface ResolvedTracingWsAdminOptions {
  readonly path: string;
  readonly guard: Type<CanActivate> | undefined;
  readonly canActivate: WsAdminAccessHook | undefined;
  readonly imports: ReadonlyArray<Type<unknown>>;
  readonly allowPayloads: boolean;
  readonly redactPaths: readonly string[];
  readonly maxPayloadChars: number;
  readonly maxWatches: number;
  readonly maxWatchMs: number;
  readonly eventsPerSecond: number;
  readonly maxDebugMs: number;
  readonly requestTimeoutMs: number;
}

/** The levels a debug session may raise message lines to. */
export const WS_ADMIN_DEBUG_LEVELS: readonly WsLogLevel[] = ['info', 'warn'];
