import { randomBytes } from 'node:crypto';

/** A trace context read from a handshake or a frame, already validated. */
export interface WsTraceContext {
  /** 32 lowercase hex, not all zeros. */
  traceId: string;
  /** 16 lowercase hex, present only when a full traceparent was given. */
  spanId: string | undefined;
  /** W3C trace flags (bit 0: sampled). */
  traceFlags: number;
}

const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-|$)/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** Longest value worth looking at; anything longer is refused before any regex runs. */
const MAX_INPUT = 256;

/**
 * Validates a trace id: 32 hex digits (not all zeros) or a UUID, returned as 32
 * lowercase hex. Anything else gives `undefined` and must never be echoed.
 */
export function normalizeTraceId(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 36) return undefined;
  const lower = value.toLowerCase();
  let id: string;
  if (HEX32.test(lower)) id = lower;
  else if (UUID.test(lower)) id = lower.replace(/-/g, '');
  else return undefined;
  return id === ZERO_TRACE ? undefined : id;
}

/**
 * Parses a W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header):
 * lowercase only, version `ff` refused, version `00` exactly 55 characters,
 * trace and parent ids not all zeros.
 */
export function parseTraceparent(value: unknown): WsTraceContext | undefined {
  if (typeof value !== 'string' || value.length < 55 || value.length > MAX_INPUT) return undefined;
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, spanId, flags] = m as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && value.length !== 55)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 0xff };
}

/**
 * The W3C `traceparent` of a span context (version `00`): how a publisher's span
 * travels to the instances that deliver its broadcast.
 */
export function formatTraceparent(spanContext: { readonly traceId: string; readonly spanId: string; readonly traceFlags: number }): string {
  const flags = spanContext.traceFlags & 0xff;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/** A random W3C trace id. */
export function generateTraceId(): string {
  let id = randomBytes(16).toString('hex');
  while (id === ZERO_TRACE) id = randomBytes(16).toString('hex');
  return id;
}
