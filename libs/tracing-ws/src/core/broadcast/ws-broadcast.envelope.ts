import type { WsBroadcastAudience } from './ws-broadcast.types.js';

/**
 * What travels between instances with each broadcast, ahead of the frame text.
 * The frame itself is the exact text the publisher sent to its own sockets, so a
 * receiving instance forwards it without parsing or serialising it again.
 */
export interface WsEnvelopeHeader {
  /** Format version. */
  readonly v: 1;
  /** Random id of this publication (`messaging.message.id` on both sides). */
  readonly id: string;
  /** Instance that published it; that instance has already delivered it locally. */
  readonly origin: string;
  readonly audience: WsBroadcastAudience;
  /** Room name (`audience: 'room'`), user id (`audience: 'user'`) or connection id (`audience: 'connection'`). */
  readonly target?: string;
  readonly event: string;
  /** W3C traceparent of the publisher's `send <event>` span. */
  readonly traceparent?: string;
  /** Trace id to log when no span context could be propagated (no recording SDK). */
  readonly traceId?: string;
  /** Publication time, ms since the epoch (the lag histogram's start). */
  readonly publishedAt: number;
}

/** Header JSON, a newline, then the frame (JSON text never holds a raw newline). */
export function encodeEnvelope(header: WsEnvelopeHeader, frame: string): string {
  return `${JSON.stringify(header)}\n${frame}`;
}

/** Where a room history numbered a broadcast. */
export interface WsEnvelopePosition {
  readonly epoch: string;
  readonly offset: number;
}

/**
 * A decoded envelope, or `undefined` when the text is not one. A broadcast numbered by
 * the Redis room history (its script publishes it) starts with a line `@<epoch>:<offset>`,
 * and its frame is then the body without meta (see `frameBody`).
 */
export function decodeEnvelope(text: string): { header: WsEnvelopeHeader; frame: string; position?: WsEnvelopePosition } | undefined {
  if (text.startsWith('@')) {
    const end = text.indexOf('\n');
    const colon = text.indexOf(':');
    if (end < 0 || colon < 0 || colon > end) return undefined;
    const offset = Number(text.slice(colon + 1, end));
    if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
    const rest = decodeEnvelope(text.slice(end + 1));
    return rest && { ...rest, position: { epoch: text.slice(1, colon), offset } };
  }
  const nl = text.indexOf('\n');
  if (nl <= 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(text.slice(0, nl));
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  return { header, frame: text.slice(nl + 1) };
}

/**
 * What a publication carries whatever the backend (an envelope's header, or the
 * broadcast flag of the socket.io Redis adapter): who published it, when, and in
 * which trace. Not its audience, which each backend states its own way.
 */
export type WsPublication = Omit<WsEnvelopeHeader, 'audience' | 'target'>;

/** True when `h` is a well-formed {@link WsPublication} (it came over the network: nothing is assumed). */
export function isPublication(h: unknown): h is WsPublication {
  if (typeof h !== 'object' || h === null) return false;
  const x = h as Record<string, unknown>;
  return (
    x.v === 1 &&
    typeof x.id === 'string' &&
    typeof x.origin === 'string' &&
    typeof x.event === 'string' &&
    (x.traceparent === undefined || typeof x.traceparent === 'string') &&
    (x.traceId === undefined || typeof x.traceId === 'string') &&
    typeof x.publishedAt === 'number'
  );
}

function isHeader(h: unknown): h is WsEnvelopeHeader {
  if (!isPublication(h)) return false;
  const x = h as unknown as Record<string, unknown>;
  return x.audience === 'all' || ((x.audience === 'room' || x.audience === 'user' || x.audience === 'connection') && typeof x.target === 'string');
}
