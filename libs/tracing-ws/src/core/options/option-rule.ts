/**
 * The machinery behind the option table: one rule per option, and a resolver
 * that walks the table. Internal.
 */

/** How one option is defaulted, checked and stored. */
export class OptionRule<T> {
  constructor(
    /** The value when the option is left out (what TRACING_WS_DEFAULTS shows). */
    readonly fallback: T,
    /** True when a given (or defaulted) value is acceptable. */
    readonly valid: (value: unknown) => boolean,
    /** How to fix a bad value: the end of the error message. */
    readonly fix: string,
    readonly extras: {
      /** Computes the value when the option is left out, instead of `fallback`. */
      readonly generate?: () => T;
      /** Stores a copy (arrays), so that the app cannot change the options afterwards. */
      readonly copy?: (value: T) => T;
      /** What the error message shows of a bad value (a URL may hold a password). */
      readonly show?: (value: unknown) => unknown;
    } = {},
  ) {}

  resolve(given: unknown, name: string): T {
    const value = given === undefined ? (this.extras.generate?.() ?? this.fallback) : given;
    if (!this.valid(value)) throw invalidOption(name, this.extras.show ? this.extras.show(value) : value, this.fix);
    return this.extras.copy ? this.extras.copy(value as T) : (value as T);
  }
}

/** A group of options that is absent unless given (such as `broadcast.redis`). */
export class OptionalGroup<T> {
  constructor(readonly rules: OptionRules<T>) {}
}

type Leaf = string | number | boolean | null | ((...args: never[]) => unknown) | RegExp | ReadonlyArray<unknown>;

/**
 * A rule for every field of the resolved options `T`: a leaf gets an
 * {@link OptionRule}, a nested group a table of its own. A resolved field
 * without a rule does not compile.
 */
export type OptionRules<T> = {
  readonly [K in keyof T]-?: [Exclude<T[K], undefined>] extends [Leaf]
    ? OptionRule<T[K]>
    : undefined extends T[K]
      ? OptionalGroup<Exclude<T[K], undefined>>
      : OptionRules<T[K]>;
};

/** A rule about several options at once, checked after each has passed its own. */
export interface CrossOptionRule<T> {
  readonly option: string;
  readonly valid: (options: T) => boolean;
  readonly shown: (options: T) => unknown;
  readonly fix: string;
}

/** The error for a bad option: names it, shows what was given, says how to fix it. */
export function invalidOption(option: string, got: unknown, fix: string): Error {
  let shown: string;
  try {
    shown = typeof got === 'function' ? 'a function' : (JSON.stringify(got) ?? String(got));
  } catch {
    shown = String(got);
  }
  return new Error(`TracingWsModule: option "${option}" is invalid (got ${shown}): ${fix}`);
}

/** Resolves `given` against a table: every option defaulted, checked and frozen. */
export function resolveRules<T>(rules: OptionRules<T>, given: unknown, path = ''): T {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw invalidOption(path, given, 'give an object of options, or leave it out.');
  }
  const input = (given ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(rules as Record<string, unknown>)) {
    const name = path ? `${path}.${key}` : key;
    const value = input[key];
    if (rule instanceof OptionRule) out[key] = rule.resolve(value, name);
    else if (rule instanceof OptionalGroup) out[key] = value === undefined ? undefined : resolveRules(rule.rules, value, name);
    else out[key] = resolveRules(rule as OptionRules<unknown>, value, name);
  }
  return Object.freeze(out) as T;
}

/** The defaults of a table (optional groups absent), frozen. */
export function defaultsOf<T>(rules: OptionRules<T>): T {
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(rules as Record<string, unknown>)) {
    if (rule instanceof OptionRule) out[key] = Array.isArray(rule.fallback) ? Object.freeze([...rule.fallback]) : rule.fallback;
    else if (rule instanceof OptionalGroup) out[key] = undefined;
    else out[key] = defaultsOf(rule as OptionRules<unknown>);
  }
  return Object.freeze(out) as T;
}
