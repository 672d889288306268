import { sanitizeClientText } from '../model/client-text.js';

/**
 * pino `redact` paths for what carries WebSocket credentials in pino-http's
 * request lines: the `Authorization` header, cookies, a `bearer.<token>`
 * subprotocol, the `access_token` query parameter, and `Set-Cookie`.
 *
 * @example
 * LoggerModule.forRoot({ pinoHttp: { redact: { paths: WS_LOG_REDACT_PATHS, censor: '[redacted]' },
 *   serializers: { req: (req) => ({ ...req, url: redactUrlSecrets(req.url) }) } } })
 */
export const WS_LOG_REDACT_PATHS: readonly string[] = Object.freeze([
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'req.query.access_token',
  'res.headers["set-cookie"]',
]);

const URL_SECRET = /([?&](?:access_token|token)=)[^&#]*/gi;

/** Replaces the value of `access_token` / `token` query parameters in a URL with `[redacted]`. */
export function redactUrlSecrets<T extends string | undefined>(url: T): T {
  return (typeof url === 'string' ? url.replace(URL_SECRET, '$1[redacted]') : url) as T;
}

/** Longest header value and URL kept in a request line. */
const MAX_HEADER_TEXT = 512;
const MAX_URL_TEXT = 2048;

/** A request as pino-http's default serializer gives it (the fields this touches). */
interface SerializedRequest {
  url?: string;
  headers?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * A pino-http `req` serializer for the HTTP lines next to the library's: the URL
 * with its `access_token` / `token` redacted, and every header value and the URL
 * bounded in length and stripped of control and bidirectional-override characters
 * (pino escapes only C0 controls), as the library's own lines are. Keep
 * `WS_LOG_REDACT_PATHS` for the credentials.
 *
 * @example
 * LoggerModule.forRoot({ pinoHttp: { redact: { paths: [...WS_LOG_REDACT_PATHS], censor: '[redacted]' },
 *   serializers: { req: wsRequestSerializer } } })
 */
export function wsRequestSerializer<T extends SerializedRequest>(req: T): T {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers ?? {})) {
    headers[name] = Array.isArray(value) ? value.map((v) => sanitizeClientText(v, MAX_HEADER_TEXT) ?? '') : typeof value === 'string' ? (sanitizeClientText(value, MAX_HEADER_TEXT) ?? '') : value;
  }
  const url = typeof req.url === 'string' ? (sanitizeClientText(redactUrlSecrets(req.url), MAX_URL_TEXT) ?? '') : req.url;
  return { ...req, url, headers };
}
