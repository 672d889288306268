/** Longest client-supplied text (a header, a close reason) kept for logs and spans. */
export const MAX_CLIENT_TEXT = 256;

/**
 * What never reaches a log line or a span from a client: C0 controls and DEL,
 * C1 controls (U+0080–U+009F, which some terminals and viewers interpret), and
 * the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
 * U+2066–U+2069), with which a viewer shows text reversed.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * The only form in which a client-controlled string is logged or put on a span:
 * truncated to `max` characters (never half a surrogate pair), unsafe characters
 * removed. Undefined for anything but a non-empty string.
 */
export function sanitizeClientText(value: unknown, max: number = MAX_CLIENT_TEXT): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  let text = value.length > max ? value.slice(0, max) : value;
  const last = text.charCodeAt(text.length - 1);
  if (text.length < value.length && last >= 0xd800 && last <= 0xdbff) text = text.slice(0, -1);
  return text.replace(UNSAFE, '');
}
