import { sanitizeClientText } from '../model/client-text.js';
import { IO_EXCEPTION_EVENT, ioAckError, ioMetaArgument } from '../model/io-wire.js';
import { parseTraceparent, type WsTraceContext } from '../model/trace-context.js';
import { jsonFrameText, type WsErrorData, type WsFrameMeta } from '../model/ws-protocol.js';
import type { WsAck, WsTransportName } from '../model/ws-transport.js';

// A client of an adapter the library does not control is told apart by its
// shape (the core imports neither `ws` nor `socket.io`): a socket.io server-side
// `Socket` has `nsp`, `handshake` and `emit`; a `ws` WebSocket has `readyState`
// and `send`.

interface IoSocketLike {
  readonly nsp: object;
  readonly handshake: { readonly headers?: Record<string, unknown>; readonly auth?: Record<string, unknown>; readonly address?: unknown };
  readonly connected?: boolean;
  emit(event: string, ...args: unknown[]): unknown;
}

interface WsSocketLike {
  readonly readyState: number;
  send(text: string): void;
}

/** ws's `WebSocket.OPEN`. */
const OPEN = 1;

function isIoSocket(client: object): client is IoSocketLike {
  const c = client as Partial<IoSocketLike>;
  return typeof c.nsp === 'object' && c.nsp !== null && typeof c.handshake === 'object' && c.handshake !== null && typeof c.emit === 'function';
}

function isWsSocket(client: object): client is WsSocketLike {
  const c = client as Partial<WsSocketLike>;
  return typeof c.readyState === 'number' && typeof c.send === 'function';
}

/** The transport of a gateway handler's client, or `undefined` for neither shape. */
export function transportOf(client: unknown): WsTransportName | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  if (isIoSocket(client)) return 'socket.io';
  return isWsSocket(client) ? 'ws' : undefined;
}

/**
 * The acknowledgement callback of a socket.io message, from the handler's
 * arguments as Nest passes them (`[client, data, ack, pattern]`); a ws
 * message has none (its third argument is the event name).
 */
export function ackOf(transport: WsTransportName, args: readonly unknown[]): WsAck | undefined {
  const ack = args[2];
  return transport === 'socket.io' && typeof ack === 'function' ? (ack as WsAck) : undefined;
}

/** What a socket.io handshake tells of its client; a ws socket tells nothing once accepted. */
export interface WsForeignHandshake {
  readonly trace: WsTraceContext | undefined;
  readonly remoteAddress: string | undefined;
  readonly userAgent: string | undefined;
  readonly origin: string | undefined;
}

const NOTHING_KNOWN: WsForeignHandshake = Object.freeze({ trace: undefined, remoteAddress: undefined, userAgent: undefined, origin: undefined });

/** Reads `handshake.auth.traceparent`, else the `traceparent` header, and the client's address and headers. */
export function foreignHandshake(client: unknown, transport: WsTransportName): WsForeignHandshake {
  if (transport !== 'socket.io') return NOTHING_KNOWN;
  const { handshake } = client as IoSocketLike;
  const headers = handshake.headers ?? {};
  return {
    trace: parseTraceparent(handshake.auth?.traceparent) ?? parseTraceparent(headers.traceparent),
    remoteAddress: sanitizeClientText(handshake.address),
    userAgent: sanitizeClientText(headers['user-agent']),
    origin: sanitizeClientText(headers.origin),
  };
}

/**
 * Answers a failed message as the library's own transports do: a ws client gets
 * the error frame `{"event":"error","data","meta"}`; a socket.io client gets
 * `{ error, $meta }` on the message's acknowledgement, else an `exception`
 * event with the error (and `{ $meta }` after it). Returns false when the client is gone.
 */
export function sendForeignError(client: unknown, transport: WsTransportName, data: WsErrorData, meta: WsFrameMeta, ack: WsAck | undefined): boolean {
  if (transport === 'ws') {
    const socket = client as WsSocketLike;
    if (socket.readyState !== OPEN) return false;
    socket.send(jsonFrameText('error', data, meta));
    return true;
  }
  const socket = client as IoSocketLike;
  if (socket.connected === false) return false;
  if (ack) ack(ioAckError(data, meta));
  else socket.emit(IO_EXCEPTION_EVENT, data, ioMetaArgument(meta));
  return true;
}
