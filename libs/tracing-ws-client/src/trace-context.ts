/** W3C trace context helpers: ids from `crypto.getRandomValues`, present in browsers and Node. */

const TRACE_ID = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  let hex = '';
  for (const byte of buffer) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** A new random trace id: 32 lowercase hex characters, never all zeros. */
export function newTraceId(): string {
  for (;;) {
    const id = randomHex(16);
    if (id !== ZERO_TRACE_ID) return id;
  }
}

/** A new random span id: 16 lowercase hex characters, never all zeros. */
export function newSpanId(): string {
  for (;;) {
    const id = randomHex(8);
    if (id !== ZERO_SPAN_ID) return id;
  }
}

/**
 * A trace id as the server accepts it: 32 hex characters (not all zeros) or a
 * UUID, normalised to 32 lowercase hex; `undefined` for anything else.
 */
export function normalizeTraceId(value: string): string | undefined {
  const lower = value.trim().toLowerCase();
  const hex = UUID.test(lower) ? lower.replaceAll('-', '') : lower;
  return TRACE_ID.test(hex) && hex !== ZERO_TRACE_ID ? hex : undefined;
}

/** `00-<traceId>-<spanId>-<flags>`. */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/**
 * The trace of one outgoing message, as a new span in it: `requested` (32 hex or
 * a UUID, normalised) when given, else `fallback()`. A `requested` that is no
 * trace id throws an `Error` naming `caller`.
 */
export function messageTrace(requested: string | undefined, fallback: () => string, sampled: boolean, caller: string): { traceId: string; traceparent: string } {
  let traceId: string;
  if (requested === undefined) {
    traceId = fallback();
  } else {
    const normalized = normalizeTraceId(requested);
    if (!normalized) throw new Error(`${caller}: traceId must be 32 hex characters (not all zeros) or a UUID`);
    traceId = normalized;
  }
  return { traceId, traceparent: formatTraceparent(traceId, newSpanId(), sampled) };
}
