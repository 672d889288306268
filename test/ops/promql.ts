/** What a Prometheus text exposition declares: metric family name -> type. */
export function metricFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/** Names of the series a scrape holds (samples, not only declarations). */
export function sampledNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) names.add(m[1]!);
  return names;
}

/** The exposition reduced to the families whose name `keep` accepts (HELP, TYPE and samples). */
export function filterFamilies(exposition: string, keep: (family: string) => boolean): string {
  const families = [...metricFamilies(exposition).keys()].filter(keep);
  const owner = (name: string): string | undefined =>
    families.find((f) => name === f || name === `${f}_bucket` || name === `${f}_sum` || name === `${f}_count` || name === `${f}_created`);
  const out: string[] = [];
  for (const line of exposition.split('\n')) {
    const name = /^# (?:HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1] ?? /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1];
    if (name && owner(name)) out.push(line);
  }
  return out.join('\n') + '\n';
}

// PromQL words that look like identifiers but name no metric.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan', 'atan2']);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges,
 * grouping label lists, Grafana variables and function names are not metric names.
 * Grafana's `label_values(metric, label)` counts its metric.
 */
export function metricNamesIn(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\blabel_values\s*\(\s*([^,()]*?)\s*,\s*\w+\s*\)/g, ' $1 ')
    .replace(/\blabel_values\s*\(\s*\w+\s*\)/g, ' ');
  s = s
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = s[m.index - 1] ?? ' ';
    if (/[0-9.]/.test(before)) continue; // the unit of a duration or an exponent: 5m, 1e3
    if (/^\s*\(/.test(s.slice(m.index + m[0].length))) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/**
 * Why `name` (as used in PromQL) does not exist in a scrape with these families,
 * or undefined when it does: histograms exist as `_bucket` / `_sum` / `_count` series.
 */
export function missingReason(name: string, families: Map<string, string>): string | undefined {
  const type = families.get(name);
  if (type === 'histogram' || type === 'summary') return `${name} is a ${type}: query ${name}_bucket, _sum or _count`;
  if (type) return undefined;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m) {
    const baseType = families.get(m[1]!);
    if (baseType === 'histogram' || (baseType === 'summary' && m[2] !== 'bucket')) return undefined;
    if (baseType) return `${m[1]} is a ${baseType}, it has no _${m[2]} series`;
  }
  return `${name} is not in the scrape`;
}
