import { readErrorData, type WsErrorData, type WsFrameMeta } from '../ws-protocol.js';

/**
 * How TracingWsModule's frame model travels over socket.io (the server README,
 * "socket.io"), repeated here so that the client stays dependency-free. Pure:
 * nothing here loads socket.io-client.
 *
 * `meta` rides as a trailing `{ $meta: {...} }` argument of an event (client to
 * server: `traceparent`, `id`; server to client: `traceId`), and inside the
 * first argument of an acknowledgement.
 */
export const IO_META_KEY = '$meta';

/** Emitted by the server right after a connection: `{ traceId, connectionId }` of the session. */
export const IO_SESSION_EVENT = 'tracing-ws:session';

/** Emitted by the server before it closes a connection: `{ code, reason }`, a close code of the server's table. */
export const IO_CLOSE_EVENT = 'tracing-ws:close';

/** Emitted by the server with the error data when a failed message had no acknowledgement. */
export const IO_EXCEPTION_EVENT = 'exception';

/** Close codes after which the server closes only the transport, so socket.io-client reconnects: going away, restart, try again later. */
export const IO_RECONNECT_CODES: readonly number[] = Object.freeze([1001, 1012, 1013]);

/** The trailing argument that carries `meta`. */
export type IoMetaArgument = { readonly [IO_META_KEY]: WsFrameMeta };

/** An acknowledgement as read by {@link readIoAck}: the handler's value, or the error of a failed message. */
export type IoAck = { readonly data: unknown; readonly meta: WsFrameMeta } | { readonly error: WsErrorData; readonly meta: WsFrameMeta };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function metaOf(value: unknown): WsFrameMeta {
  if (!isPlainObject(value)) return {};
  const meta: WsFrameMeta = {};
  if (typeof value.traceId === 'string') meta.traceId = value.traceId;
  if (typeof value.id === 'string') meta.id = value.id;
  if (typeof value.traceparent === 'string') meta.traceparent = value.traceparent;
  return meta;
}

/** `meta` as the trailing argument of an emitted event. */
export function ioMetaArgument(meta: WsFrameMeta): IoMetaArgument {
  return { [IO_META_KEY]: meta };
}

/**
 * Splits a server event's arguments into the event's own and the server's
 * `meta`: a last argument (after at least one other) that is a plain object
 * whose only key is `$meta` is taken off, as the server does with the client's.
 */
export function takeIoMeta(args: readonly unknown[]): { args: unknown[]; meta: WsFrameMeta } {
  const last = args[args.length - 1];
  if (args.length > 1 && isPlainObject(last)) {
    const keys = Object.keys(last);
    if (keys.length === 1 && keys[0] === IO_META_KEY) return { args: args.slice(0, -1), meta: metaOf(last[IO_META_KEY]) };
  }
  return { args: [...args], meta: {} };
}

/**
 * Reads the first argument of an acknowledgement: `{ error, $meta }` is a failed
 * message; a plain object loses its `$meta`, and one left with only `data` (a
 * handler's non-object result, wrapped by the server) is that `data`; anything
 * else (a server without trace propagation) is the value itself.
 */
export function readIoAck(value: unknown): IoAck {
  if (!isPlainObject(value)) return { data: value, meta: {} };
  const meta = metaOf(value[IO_META_KEY]);
  const rest: Record<string, unknown> = { ...value };
  delete rest[IO_META_KEY];
  const keys = Object.keys(rest);
  if (keys.length === 1 && keys[0] === 'error') {
    const error = readErrorData({ event: 'error', data: rest.error, meta });
    if (error) return { error, meta };
  }
  if (keys.length === 1 && keys[0] === 'data') return { data: rest.data, meta };
  return { data: rest, meta };
}

/** The error data of an `exception` event, with the trailing `meta`'s trace id when the data has none; `undefined` when malformed. */
export function readIoException(args: readonly unknown[]): WsErrorData | undefined {
  const { args: own, meta } = takeIoMeta(args);
  return readErrorData({ event: 'error', data: own[0], meta });
}
