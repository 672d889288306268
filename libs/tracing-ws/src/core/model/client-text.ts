/** Longest client-supplied text (a header, a close reason) kept for logs and spans. */
export const MAX_CLIENT_TEXT = 256;

/**
 * The only form in which a client-controlled string is logged or put on a span:
 * truncated to `max` characters, control characters removed. Undefined for
 * anything but a non-empty string.
 */
export function sanitizeClientText(value: unknown, max: number = MAX_CLIENT_TEXT): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  // eslint-disable-next-line no-control-regex
  return value.slice(0, max).replace(/[\u0000-\u001f\u007f]/g, '');
}
