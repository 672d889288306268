import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { OptionalGroup, OptionRule, type CrossOptionRule, type OptionRules } from './option-rule.js';
import type { ResolvedTracingWsOptions, WsAuthenticateHook, WsLogLevel } from './tracing-ws.options.js';

/*
 * Every option of TracingWsModule, with its default, its check and the fix its
 * error names: the one place a new option is given a default and validated
 * (its declaration and JSDoc live in tracing-ws.options.ts).
 */

const LOG_LEVELS: readonly WsLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

const isBoolean = (v: unknown): boolean => typeof v === 'boolean';
const isWholeNumber = (min: number) => (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isOptionalFunction = (v: unknown): boolean => v === undefined || typeof v === 'function';
const isIncreasingPositive = (v: unknown): boolean =>
  Array.isArray(v) && v.length > 0 && v.every((b, i) => typeof b === 'number' && b > 0 && (i === 0 || b > (v[i - 1] as number)));

const flag = (fallback: boolean): OptionRule<boolean> => new OptionRule(fallback, isBoolean, 'give true or false.');
const count = (fallback: number, min = 0): OptionRule<number> => new OptionRule(fallback, isWholeNumber(min), `give a whole number, at least ${min}.`);
const hook = <T>(): OptionRule<T | undefined> => new OptionRule<T | undefined>(undefined, isOptionalFunction, 'give a function, or leave it out.');
const buckets = (fallback: number[]): OptionRule<number[]> =>
  new OptionRule(fallback, isIncreasingPositive, 'give a non-empty array of positive numbers in increasing order.', { copy: (v) => [...v] });

export const TRACING_WS_OPTION_RULES: OptionRules<ResolvedTracingWsOptions> = {
  allowedOrigins: new OptionRule<ReadonlyArray<string | RegExp>>(
    [],
    (v) => Array.isArray(v) && v.every((x) => (typeof x === 'string' && x.length > 0) || x instanceof RegExp),
    'give an array of origins such as "https://app.example.com" or RegExps (empty allows all).',
    { copy: (v) => Object.freeze([...v]) },
  ),
  allowMissingOrigin: flag(true),
  requireAuth: flag(false),
  authenticate: new OptionRule<WsAuthenticateHook | undefined>(undefined, isOptionalFunction, 'give a function (request) => user | null, or leave it out.'),
  traceMode: new OptionRule<ResolvedTracingWsOptions['traceMode']>('message', (v) => v === 'message' || v === 'connection', 'give "message" or "connection".'),
  propagateToClient: flag(true),
  messageLogLevel: new OptionRule<WsLogLevel>('debug', (v) => LOG_LEVELS.includes(v as WsLogLevel), `give one of ${LOG_LEVELS.join(', ')}.`),
  trustProxy: flag(false),
  maxPayloadBytes: new OptionRule(1024 * 1024, isWholeNumber(64), 'give a whole number of bytes, at least 64.'),
  metrics: {
    prefix: new OptionRule(
      'ws_',
      (v) => typeof v === 'string' && /^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/.test(v),
      'give a Prometheus name prefix such as "ws_" (letters, digits, _ and :).',
    ),
    durationBuckets: buckets([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    sizeBuckets: buckets([64, 256, 1024, 4096, 16384, 65536, 262144, 1048576]),
    connectionDurationBuckets: buckets([1, 10, 60, 300, 900, 3600, 14400, 86400]),
    exemplars: flag(true),
  },
  httpMetrics: flag(true),
  logPayloadMaxLength: new OptionRule(0, isWholeNumber(0), 'give a whole number of characters (0 logs no payload).'),
  onMessageSpan: hook(),
  allowForceSampling: hook(),
  broadcast: {
    instanceId: new OptionRule('', (v) => typeof v === 'string' && /^[\w.-]{1,128}$/.test(v), 'give 1-128 letters, digits, ".", "_" or "-", unique per process.', {
      generate: () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    }),
    redis: new OptionalGroup({
      url: new OptionRule(
        '',
        (v) => typeof v === 'string' && /^rediss?:\/\//.test(v),
        'give a URL such as "redis://127.0.0.1:6379" (or leave broadcast.redis out for in-memory broadcasts).',
        // A URL may hold a password: never shown.
        { show: (v) => (v === undefined || v === '' ? undefined : '[redacted]') },
      ),
      keyPrefix: new OptionRule('tracing-ws:', (v) => typeof v === 'string' && v.length <= 64 && !/\s/.test(v), 'give at most 64 characters without spaces, such as "tracing-ws:".'),
      presenceTtlMs: new OptionRule(30000, isWholeNumber(300), 'give a whole number of milliseconds, at least 300.'),
      staleAfterMs: count(5000),
      maxInFlightPublishes: count(1000, 1),
    }),
    history: new OptionalGroup({
      size: new OptionRule(100, (v) => isWholeNumber(1)(v) && (v as number) <= 100000, 'give a whole number of broadcasts per room, 1 to 100000.'),
      ttlMs: new OptionRule(300000, isWholeNumber(1000), 'give a whole number of milliseconds, at least 1000.'),
      maxBytes: new OptionRule(64 * 1024 * 1024, isWholeNumber(65536), 'give a whole number of bytes, at least 65536 (64 KiB).'),
    }),
  },
  heartbeat: { intervalMs: count(30000) },
  invalidFrames: { max: count(20), windowMs: count(10000, 1) },
  rateLimit: { messagesPerSecond: count(1000), burst: count(2000, 1), perUser: flag(false), closeAfterRefused: count(100) },
  maxConnections: count(0),
  maxConnectionsPerIp: count(0),
  backpressure: { maxBufferedBytes: count(1024 * 1024, 1), closeAfterMs: count(30000) },
  handshakeCheck: { enabled: flag(true), perAddressPerMinute: count(20) },
  handshakeFailures: { perAddressPerMinute: count(30) },
  shutdown: { timeoutMs: count(10000), closeHttpConnections: flag(true) },
  logUnhandledRejections: flag(true),
};

/** Rules about several options, checked once each option has passed its own. */
export const TRACING_WS_CROSS_RULES: ReadonlyArray<CrossOptionRule<ResolvedTracingWsOptions>> = [
  {
    option: 'requireAuth',
    valid: (o) => !o.requireAuth || o.authenticate !== undefined,
    shown: (o) => o.requireAuth,
    fix: 'requireAuth needs an authenticate hook that turns a token into a user.',
  },
];
