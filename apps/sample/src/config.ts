import type { TracingWsModuleOptions } from '@tracing-ws/nestjs';

/** A level for the library's per-message lines. */
export type MessageLogLevel = NonNullable<TracingWsModuleOptions['messageLogLevel']>;

const MESSAGE_LOG_LEVELS: readonly MessageLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** The transports the chat can be served on. */
export const SAMPLE_TRANSPORTS = ['ws', 'socket.io', 'both'] as const;
export type SampleTransport = (typeof SAMPLE_TRANSPORTS)[number];

/** The sample's settings, all from the environment, with embedded defaults. */
export interface SampleConfig {
  port: number;
  host: string;
  logLevel: string;
  /**
   * `MESSAGE_LOG_LEVEL`: level of the library's `ws.message_handled` (one line per
   * message, with trace_id, connection_id and user_id) and `ws.broadcast` lines.
   * `info` (the library's default is `debug`), so that the trace id the chat page
   * shows next to a message finds that message's line at the default `LOG_LEVEL`.
   */
  messageLogLevel: MessageLogLevel;
  /** token → user id */
  tokens: Map<string, string>;
  allowedOrigins: string[];
  /** `REDIS_URL`: relay broadcasts and presence through Redis (several instances); unset: one process, in memory. */
  redisUrl: string | undefined;
  /** `REDIS_PRESENCE_TTL_MS`: how long a crashed instance's presence entries survive (library default when unset). */
  redisPresenceTtlMs: number | undefined;
  /**
   * `HISTORY_SIZE` (default 100): messages kept per room, so that a page that lost its
   * connection (or reconnects to another instance after a restart) shows what was said
   * meanwhile, marked recovered (in memory, or in Redis with `REDIS_URL`). 0: no history.
   * Not with `TRANSPORT=socket.io`, whose page does not recover.
   */
  historySize: number;
  /**
   * `MAX_CONNECTIONS_PER_IP` (default 100): open connections one client address may
   * hold; more are refused with 429. Behind a proxy, set `trustProxy` so that this is
   * the client's address, not the proxy's (0: unlimited).
   */
  maxConnectionsPerIp: number;
  /**
   * `TRANSPORT`: `ws` (ws://host/chat, the chat page), `socket.io` (namespace
   * `/chat` on `/socket.io/`, the page on socket.io), or `both` (the two on the same
   * port through `TracingCompositeAdapter`; the page uses ws).
   */
  transport: SampleTransport;
  /**
   * `MODERATION_URL`: the moderation service's check endpoint (POST `{ text }`, answers
   * `{ allowed }`); unset: this app's own stand-in, `/moderation/check` on its port.
   * A moderation service that fails makes `message` fail with `INTERNAL`.
   */
  moderationUrl: string | undefined;
  /**
   * `SAMPLE_ADMIN_TOKEN`: mounts the admin surface (`/admin/connections`, `/admin/trace`,
   * `/admin/debug`) and its operator page at `/admin`, for requests that carry
   * `Authorization: Bearer <this token>`. Unset (the default): no admin surface at all.
   * There is no built-in token: the compose stack exposes the sample.
   */
  adminToken: string | undefined;
}

/** Parses `token:user` pairs, comma separated. */
export function parseTokens(spec: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const pair of spec.split(',')) {
    const [token, user] = pair.split(':').map((s) => s.trim());
    if (!token || !user) throw new Error(`SAMPLE_TOKENS: "${pair}" is not a token:user pair`);
    tokens.set(token, user);
  }
  return tokens;
}

/** `value` of the variable `name` if it is one of `allowed`; throws naming the variable otherwise. */
function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (!found) throw new Error(`${name}: "${value}" is not one of ${allowed.join(', ')}`);
  return found;
}

function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: "${value}" is not a whole number`);
  return n;
}

/** The admin token, when set: at least 16 characters, so that a guessable one is refused at start. */
function adminToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < 16 || /\s/.test(value)) throw new Error('SAMPLE_ADMIN_TOKEN: give at least 16 characters without spaces (e.g. openssl rand -hex 24)');
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: "${env.PORT}" is not a port number`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    logLevel: env.LOG_LEVEL ?? 'info',
    messageLogLevel: oneOf('MESSAGE_LOG_LEVEL', env.MESSAGE_LOG_LEVEL || 'info', MESSAGE_LOG_LEVELS),
    tokens: parseTokens(env.SAMPLE_TOKENS ?? 'alice-token:alice,bob-token:bob'),
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    redisUrl: env.REDIS_URL || undefined,
    redisPresenceTtlMs: env.REDIS_PRESENCE_TTL_MS ? Number(env.REDIS_PRESENCE_TTL_MS) : undefined,
    historySize: wholeNumber('HISTORY_SIZE', env.HISTORY_SIZE, 100),
    maxConnectionsPerIp: wholeNumber('MAX_CONNECTIONS_PER_IP', env.MAX_CONNECTIONS_PER_IP, 100),
    transport: oneOf('TRANSPORT', env.TRANSPORT || 'ws', SAMPLE_TRANSPORTS),
    moderationUrl: env.MODERATION_URL || undefined,
    adminToken: adminToken(env.SAMPLE_ADMIN_TOKEN),
  };
}
