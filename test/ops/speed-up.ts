import { parse, stringify } from 'yaml';

// The shipped kit waits minutes (`for: 5m`, `[5m]` windows, a 15 s scrape, a 5 m
// Alertmanager group interval). A test runs it SPEED_UP times faster by dividing every
// duration in it by one factor: the rules' `for:` and every range, subquery and offset
// in their PromQL, Prometheus's scrape and evaluation intervals, Alertmanager's group
// and repeat timers. Nothing else changes, so the rules, thresholds, labels,
// annotations, routes and templates under test are the shipped ones.

/** How many times faster than shipped the alerting tests run: 5m becomes 5s, 1h becomes 1m. */
export const SPEED_UP = 60;

const UNIT_MS = { y: 365 * 24 * 3600e3, w: 7 * 24 * 3600e3, d: 24 * 3600e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** One Prometheus / Alertmanager duration: `5m`, `1h30m`, `250ms`. */
const DURATION = /^(?:\d+(?:ms|[smhdwy]))+$/;
const PART = /(\d+)(ms|[smhdwy])/g;

/** A Prometheus duration in milliseconds. */
export function durationMs(duration: string): number {
  if (!DURATION.test(duration)) throw new Error(`"${duration}" is not a Prometheus duration`);
  let ms = 0;
  for (const [, n, unit] of duration.matchAll(PART)) ms += Number(n) * UNIT_MS[unit as Unit];
  return ms;
}

/** Milliseconds as a Prometheus duration, in the largest unit that divides them: 5000 -> 5s, 500 -> 500ms. */
export function formatDuration(ms: number): string {
  const whole = Math.round(ms);
  if (whole < 1) throw new Error(`${ms} ms is below Prometheus's resolution of 1 ms`);
  const unit = (Object.keys(UNIT_MS) as Unit[]).find((u) => whole % UNIT_MS[u] === 0)!;
  return `${whole / UNIT_MS[unit]}${unit}`;
}

/** `duration` divided by `speedUp`. */
export function scaleDuration(duration: string, speedUp: number = SPEED_UP): string {
  return formatDuration(durationMs(duration) / speedUp);
}

/**
 * A PromQL expression with every duration divided by `speedUp`: ranges `[5m]`,
 * subqueries `[1h:1m]` and `offset 5m`. Label matchers (`{...}`) and strings are
 * left alone.
 */
export function scaleExpr(expr: string, speedUp: number = SPEED_UP): string {
  return expr
    .replace(/\[([^\]{}"]+)\]/g, (_all, inner: string) => `[${inner.split(':').map((d) => (d.trim() ? scaleDuration(d.trim(), speedUp) : d)).join(':')}]`)
    .replace(/\boffset(\s+)(-?)((?:\d+(?:ms|[smhdwy]))+)/g, (_all, space: string, sign: string, d: string) => `offset${space}${sign}${scaleDuration(d, speedUp)}`);
}

interface RuleFile {
  groups: Array<{ name: string; interval?: string; rules: Array<{ alert?: string; record?: string; expr: string; for?: string }> }>;
}

/** A Prometheus rule file (YAML text) with every duration of its rules divided by `speedUp`. */
export function scaleRuleFile(text: string, speedUp: number = SPEED_UP): string {
  const file = parse(text) as RuleFile;
  for (const group of file.groups) {
    if (group.interval) group.interval = scaleDuration(group.interval, speedUp);
    for (const rule of group.rules) {
      rule.expr = scaleExpr(rule.expr, speedUp);
      if (rule.for) rule.for = scaleDuration(rule.for, speedUp);
    }
  }
  return stringify(file);
}

interface AlertmanagerRoute {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: AlertmanagerRoute[];
}

/** Alertmanager's own timers where the root route sets none. */
const ROUTE_DEFAULTS = { group_wait: '30s', group_interval: '5m', repeat_interval: '4h' } as const;

/**
 * An Alertmanager route tree with its group and repeat timers divided by `speedUp`
 * (in place). The root gets Alertmanager's defaults first where it sets none, so an
 * inherited timer is scaled too.
 */
export function scaleRouteTree(root: AlertmanagerRoute, speedUp: number = SPEED_UP): void {
  const scale = (route: AlertmanagerRoute): void => {
    for (const key of Object.keys(ROUTE_DEFAULTS) as Array<keyof typeof ROUTE_DEFAULTS>) {
      const value = route[key];
      if (value) route[key] = scaleDuration(value, speedUp);
    }
    for (const child of route.routes ?? []) scale(child);
  };
  Object.assign(root, { ...ROUTE_DEFAULTS, ...root });
  scale(root);
}
