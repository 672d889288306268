import type { WsErrorData, WsFrameMeta } from './ws-protocol.js';

/**
 * How the library's frame model travels over socket.io (README, "socket.io"),
 * shared by the socket.io transport and the gateway interceptor. Pure: nothing
 * here loads socket.io. The client helper of `@tracing-ws/client` reads the same names.
 *
 * socket.io events carry arguments, not an envelope, so `meta` rides as a
 * trailing `{ $meta: {...} }` argument (client to server: `traceparent`, `id`;
 * server to client: `traceId`, `id`) that handlers never see, and inside the
 * first argument of an acknowledgement (what `emitWithAck` resolves with).
 */
export const IO_META_KEY = '$meta';

/** Emitted to a client right after it connects: `{ traceId, connectionId }` of its session. */
export const IO_SESSION_EVENT = 'tracing-ws:session';

/** Emitted to a client before the server closes its connection: `{ code, reason }`, a close code of `WS_CLOSE_CODES`. */
export const IO_CLOSE_EVENT = 'tracing-ws:close';

/** Emitted with the error data (`{code, message, traceId, retryable}`) when a failed message had no acknowledgement (Nest's event name). */
export const IO_EXCEPTION_EVENT = 'exception';

/** The trailing argument that carries `meta`. */
export type IoMetaArgument = { readonly [IO_META_KEY]: WsFrameMeta };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** `meta` as the trailing argument of an emitted event. */
export function ioMetaArgument(meta: WsFrameMeta): IoMetaArgument {
  return { [IO_META_KEY]: meta };
}

/**
 * Splits an event's arguments (acknowledgement already removed) into the
 * handler's arguments and the client's `meta`: a last argument that is a plain
 * object whose only key is `$meta` is taken off.
 */
export function takeIoMeta(args: unknown[]): { args: unknown[]; meta: unknown } {
  const last = args[args.length - 1];
  if (args.length > 1 && isPlainObject(last)) {
    const keys = Object.keys(last);
    if (keys.length === 1 && keys[0] === IO_META_KEY) return { args: args.slice(0, -1), meta: last[IO_META_KEY] };
  }
  return { args, meta: undefined };
}

/**
 * The acknowledgement of a handler's result with the server's `meta` in it: a
 * plain object gets a `$meta` field; any other value (a string, a number, an
 * array, a class instance) is wrapped as `{ data, $meta }`.
 */
export function ioAckValue(value: unknown, meta: WsFrameMeta): unknown {
  return isPlainObject(value) ? { ...value, [IO_META_KEY]: meta } : { data: value, [IO_META_KEY]: meta };
}

/** The acknowledgement of a failed message: `{ error: {code, message, traceId, retryable}, $meta }`. */
export function ioAckError(error: WsErrorData, meta: WsFrameMeta): unknown {
  return { error, [IO_META_KEY]: meta };
}
