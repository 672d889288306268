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
