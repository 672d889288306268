import { invalidOption, OptionRule, resolveRules, type OptionRules } from './option-rule.js';
import type { ResolvedTracingWsAdminOptions, TracingWsAdminOptions, WsAdminAccessHook } from './tracing-ws-admin.options.js';

/** The options the table resolves: all but the classes, which the module checks itself. */
type TableOptions = Omit<ResolvedTracingWsAdminOptions, 'guard' | 'imports'>;

// Every option of TracingWsAdminModule with its default, its check and its fix
// (declarations and JSDoc in tracing-ws-admin.options.ts).

const isWholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const count = (fallback: number, min: number, max?: number): OptionRule<number> =>
  new OptionRule(fallback, isWholeNumber(min, max), max === undefined ? `give a whole number, at least ${min}.` : `give a whole number from ${min} to ${max}.`);
const isOptionalFunction = (v: unknown): boolean => v === undefined || typeof v === 'function';

export const TRACING_WS_ADMIN_OPTION_RULES: OptionRules<TableOptions> = {
  path: new OptionRule('admin', (v) => typeof v === 'string' && /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(v) && v.length <= 64, 'give a path such as "admin" or "ops/ws" (letters, digits, -, _, no slash at either end).'),
  canActivate: new OptionRule<WsAdminAccessHook | undefined>(undefined, isOptionalFunction, 'give a function (request) => boolean, or leave it out.'),
  allowPayloads: new OptionRule(false, (v) => typeof v === 'boolean', 'give true or false.'),
  redactPaths: new OptionRule<readonly string[]>(
    ['password', 'token', 'secret', '*.password', '*.token', '*.secret'],
    (v) => Array.isArray(v) && v.every((p) => typeof p === 'string' && /^(\*|[\w$-]+)(\.(\*|[\w$-]+))*$/.test(p)),
    'give dot paths such as "password" or "card.*" (keys of letters, digits, _, $, -, or *).',
    { copy: (v) => Object.freeze([...v]) },
  ),
  maxPayloadChars: count(1024, 16, 65536),
  maxWatches: count(10, 1, 1000),
  maxWatchMs: count(600_000, 1000),
  eventsPerSecond: count(100, 1, 100_000),
  maxDebugMs: count(900_000, 1000),
  requestTimeoutMs: count(1000, 50, 30_000),
};

/**
 * Merges `options` over the defaults and validates them at bootstrap.
 * @throws Error naming the first invalid option; also when neither `guard` nor `canActivate` is given.
 */
export function resolveAdminOptions(options: TracingWsAdminOptions | undefined): ResolvedTracingWsAdminOptions {
  const { guard, imports, ...rest } = options ?? {};
  if (!isOptionalFunction(guard)) throw invalidOption('admin.guard', guard, 'give a Nest guard class (CanActivate), or leave it out.');
  if (imports !== undefined && !Array.isArray(imports)) throw invalidOption('admin.imports', imports, 'give an array of modules.');
  const resolved: ResolvedTracingWsAdminOptions = Object.freeze({ ...resolveRules(TRACING_WS_ADMIN_OPTION_RULES, rest), guard, imports: Object.freeze([...(imports ?? [])]) });
  if (!resolved.guard && !resolved.canActivate) {
    throw invalidOption('admin.guard', undefined, 'the admin surface is never open: give a guard class or a canActivate function that checks the operator.');
  }
  return resolved;
}
