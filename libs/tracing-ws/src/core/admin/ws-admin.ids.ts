import { sanitizeClientText } from '../model/client-text.js';
import { isServerCloseCode } from '../model/ws-protocol.js';
import type { WsLiveTarget } from '../telemetry/ws-live.tap.js';

/**
 * An identifier an operator may name (a user id, a connection id): 1–128 characters,
 * starting with a letter or digit, then letters, digits and `. _ : @ -`. Nothing else
 * reaches a lookup, a Redis message or a log line: no newline, no slash, no `..` path.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** Longest close reason an operator may give (RFC 6455: 123 bytes; ASCII-safe text here). */
const MAX_REASON = 123;

/**
 * The fixed texts of a 400 answer: what was wrong, never what was given (the given
 * value may be 10 KB of anything, and is neither echoed nor logged).
 */
export const WS_ADMIN_BAD_REQUEST = {
  user: 'Invalid user id',
  connection: 'Invalid connection id',
  target: 'Name one user (user=) or one connection (connection=)',
  code: 'Invalid close code: give 1000, 1001, 1008, 1011, 1012, 1013 or 4000-4999',
  reason: 'Invalid close reason: at most 123 printable characters',
  filter: 'Invalid filter',
  duration: 'Invalid durationMs',
  level: 'Invalid level: give info or warn',
} as const;

/** `value` when it is a valid identifier; undefined otherwise (arrays and repeated parameters included). */
export function readId(value: unknown): string | undefined {
  return typeof value === 'string' && ID.test(value) ? value : undefined;
}

/** Thrown by the readers below; the controller answers it 400 with its fixed message. */
export class WsAdminInputError extends Error {}

/** An optional identifier query parameter: undefined when absent, the id when valid; throws otherwise. */
export function optionalId(value: unknown, message: string): string | undefined {
  if (value === undefined) return undefined;
  const id = readId(value);
  if (id === undefined) throw new WsAdminInputError(message);
  return id;
}

/** Exactly one of `user` / `connection`, valid. */
export function readTarget(user: unknown, connection: unknown): WsLiveTarget {
  const u = optionalId(user, WS_ADMIN_BAD_REQUEST.user);
  const c = optionalId(connection, WS_ADMIN_BAD_REQUEST.connection);
  if ((u === undefined) === (c === undefined)) throw new WsAdminInputError(WS_ADMIN_BAD_REQUEST.target);
  return c !== undefined ? { connection: c } : { user: u };
}

/** A close code from a query parameter (default 1000); throws unless a server may send it. */
export function readCloseCode(value: unknown): number {
  if (value === undefined) return 1000;
  const code = typeof value === 'string' && /^\d{4}$/.test(value) ? Number(value) : NaN;
  if (!isServerCloseCode(code)) throw new WsAdminInputError(WS_ADMIN_BAD_REQUEST.code);
  return code;
}

/** A close reason (default empty); throws when too long or not printable. */
export function readReason(value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string' || value.length > MAX_REASON || !/^[\x20-\x7e]+$/.test(value)) throw new WsAdminInputError(WS_ADMIN_BAD_REQUEST.reason);
  return sanitizeClientText(value, MAX_REASON) ?? '';
}

/** A whole number of milliseconds from 1 s to `max`, `max` when absent; throws otherwise. */
export function readDuration(value: unknown, max: number): number {
  if (value === undefined) return max;
  const ms = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(ms >= 1000)) throw new WsAdminInputError(WS_ADMIN_BAD_REQUEST.duration);
  return Math.min(ms, max);
}

/** A filter value among `allowed` (a transport name), or undefined when absent; throws otherwise. */
export function readChoice<T extends string>(value: unknown, allowed: readonly T[], message: string): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new WsAdminInputError(message);
  return found;
}

/** A gateway path filter: `/` then up to 127 characters of a URL path; throws otherwise. */
export function readPathFilter(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\/-]{0,127}$/.test(value) || value.includes('..')) throw new WsAdminInputError(WS_ADMIN_BAD_REQUEST.filter);
  return value;
}
