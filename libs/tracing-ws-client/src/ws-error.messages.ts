/**
 * User-facing texts for error codes and close codes. Keys are `error.<CODE>`,
 * `error.<CODE>.reason` (the same text with the server's reason, see
 * {@link WS_SERVER_TEXT_CODES}), `close.<code>`, `refused.<status>` (a handshake
 * the server refused), the fallbacks `error.unknown` / `close.unknown` /
 * `refused.unknown`, and `support`. Placeholders in braces: `{traceId}`,
 * `{serverMessage}`, `{code}`, `{status}`, `{reason}`.
 */
export const WS_DEFAULT_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  'error.BAD_REQUEST': 'That request was not accepted.',
  'error.BAD_REQUEST.reason': 'That request was not accepted: {serverMessage}',
  'error.UNKNOWN_EVENT': 'This app version sent something the server does not understand. Please reload the page.',
  'error.VALIDATION_FAILED': 'Some of the values are not valid. Please check them and try again.',
  'error.UNAUTHORIZED': 'Please sign in again.',
  'error.UNAUTHORIZED.reason': 'Please sign in again: {serverMessage}',
  'error.FORBIDDEN': 'You are not allowed to do that.',
  'error.FORBIDDEN.reason': 'You are not allowed to do that: {serverMessage}',
  'error.RATE_LIMITED': 'You are going a bit fast. Please wait a moment and try again.',
  'error.PAYLOAD_TOO_LARGE': 'That message is too large.',
  'error.INTERNAL': 'Something went wrong on our side.',
  'error.TIMEOUT': 'The server did not answer in time. Please try again.',
  'error.NOT_CONNECTED': 'You are offline right now. We are reconnecting.',
  'error.DISCONNECTED': 'The connection dropped before the server answered. Please try again.',
  'error.unknown': 'Something went wrong.',
  'close.1000': 'Disconnected.',
  'close.1001': 'The server is restarting.',
  'close.1006': 'Could not reach the server.',
  'close.1009': 'A message was too large, so the server closed the connection.',
  'close.1011': 'The server ran into an unexpected error.',
  'close.1012': 'The server is restarting.',
  'close.1013': 'The server is busy right now.',
  'close.4401': 'Your session has expired. Please sign in again.',
  'close.4403': 'You are not allowed to use this connection.',
  'close.4408': 'The connection stopped responding.',
  'close.4429': 'Too many messages. Please slow down.',
  'close.unknown': 'The connection was closed (code {code}).',
  'refused.401': 'The server refused your token. Please sign in again.',
  'refused.403': 'The server does not allow this page to connect.',
  'refused.unknown': 'The server refused the connection (HTTP {status}).',
  support: 'Quote this id to support: {traceId}',
});

/**
 * The one rule for the server's text (`data.message` of an error frame): it is
 * shown to the user for these codes only, because they are the refusals an
 * application words itself for its users (`WsException('join the room first')`,
 * `WsException({ code: 'FORBIDDEN', message })`, `ForbiddenException(message)`,
 * `UnauthorizedException(message)`). Every other code gets the client's own text:
 * `INTERNAL` (the server never sends its internal text), codes whose text the
 * library writes for developers (`UNKNOWN_EVENT`, `VALIDATION_FAILED` with its
 * field errors in `details`, `RATE_LIMITED`, `PAYLOAD_TOO_LARGE`), the client's
 * own codes and unknown codes. Even for these codes, an empty text or a
 * framework's stock text that only restates the code ({@link WS_STOCK_SERVER_TEXTS})
 * is not shown.
 */
export const WS_SERVER_TEXT_CODES: readonly string[] = Object.freeze(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN']);

/**
 * NestJS's default texts (a guard returning false, `ForbiddenException()` and the
 * like without a message): they say nothing the code does not, so they are not shown.
 * Compared case-insensitively, after trimming.
 */
export const WS_STOCK_SERVER_TEXTS: readonly string[] = Object.freeze(['Bad Request', 'Unauthorized', 'Forbidden', 'Forbidden resource']);

const STOCK = new Set(WS_STOCK_SERVER_TEXTS.map((t) => t.toLowerCase()));

/** Whether the user is shown the server's text of an error with `code` ({@link WS_SERVER_TEXT_CODES}). */
export function showsServerText(code: string, serverMessage: string | undefined): boolean {
  const text = serverMessage?.trim() ?? '';
  return WS_SERVER_TEXT_CODES.includes(code) && text !== '' && !STOCK.has(text.toLowerCase());
}

/** Values for placeholders. */
export type WsMessageParams = Readonly<Record<string, string | number | undefined>>;

/**
 * Produces the text for `key`, or `undefined` to fall back to the defaults.
 * Plug an i18n library in here (the key is stable, the params are the data).
 */
export type WsTranslate = (key: string, params: WsMessageParams) => string | undefined;

/** Texts to override by key, or a translate function. */
export type WsMessagesOption = Readonly<Record<string, string>> | WsTranslate;

function fill(template: string, params: WsMessageParams): string {
  return template.replace(/\{(\w+)\}/g, (all, name: string) => {
    const value = params[name];
    return value === undefined ? all : String(value);
  });
}

/** Resolves message keys through the user's overrides, then {@link WS_DEFAULT_MESSAGES}. */
export class WsMessages {
  constructor(private readonly option: WsMessagesOption = {}) {}

  /** The text for `key`, with `fallbackKey` when neither the overrides nor the defaults know it. */
  text(key: string, params: WsMessageParams = {}, fallbackKey?: string): string {
    return this.first([key], params, fallbackKey);
  }

  /**
   * The user-facing text of an error code. The server's text is part of it only
   * when {@link showsServerText} says so: then `error.<CODE>.reason` is used
   * (an override of `error.<CODE>` still wins over the built-in reason text).
   */
  error(code: string, serverMessage = ''): string {
    const keys = showsServerText(code, serverMessage) ? [`error.${code}.reason`, `error.${code}`] : [`error.${code}`];
    return this.first(keys, { code, serverMessage: serverMessage.trim() }, 'error.unknown');
  }

  /** The user-facing text of a close code. */
  close(code: number, reason = ''): string {
    return this.text(`close.${code}`, { code, reason }, 'close.unknown');
  }

  /** The user-facing text of a refused handshake (HTTP `status` before the upgrade). */
  refused(status: number, reason = ''): string {
    return this.text(`refused.${status}`, { status, reason }, 'refused.unknown');
  }

  /** "Quote this id to support: …", or `undefined` without a trace id. */
  support(traceId: string | undefined): string | undefined {
    return traceId ? this.text('support', { traceId }) : undefined;
  }

  /** The first of `keys` the overrides know, else the first the defaults know, else `fallbackKey`. */
  private first(keys: readonly string[], params: WsMessageParams, fallbackKey?: string): string {
    for (const key of keys) {
      const own = typeof this.option === 'function' ? this.safeTranslate(key, params) : this.option[key];
      if (own !== undefined) return fill(own, params);
    }
    for (const key of keys) {
      const builtIn = WS_DEFAULT_MESSAGES[key];
      if (builtIn !== undefined) return fill(builtIn, params);
    }
    if (fallbackKey !== undefined) return this.first([fallbackKey], params);
    return keys[0]!;
  }

  private safeTranslate(key: string, params: WsMessageParams): string | undefined {
    try {
      return (this.option as WsTranslate)(key, params);
    } catch {
      // A broken translation must not hide the error it was describing.
      return undefined;
    }
  }
}
