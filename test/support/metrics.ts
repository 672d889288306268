/** The value of one sample of a Prometheus text exposition, or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]!] = pair[2]!;
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[4]);
  }
  return 0;
}

/** Every series (name + labels) of metric families starting with `prefix`. */
export function seriesOf(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.replace(/\s+\S+$/, ''));
}

/** An `Accept` header asking for OpenMetrics, as Prometheus sends it. */
export const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** An exemplar of an OpenMetrics exposition: the sample it is on, and its own labels and value. */
export interface Exemplar {
  labels: Record<string, string>;
  exemplar: Record<string, string>;
  value: number;
  timestamp: number;
}

const LABEL_PAIRS = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const labelsOf = (text: string): Record<string, string> => Object.fromEntries([...text.matchAll(LABEL_PAIRS)].map((m) => [m[1]!, m[2]!]));

/** The exemplars on samples of `name` whose labels include `labels`. */
export function exemplarsOf(text: string, name: string, labels: Record<string, string> = {}): Exemplar[] {
  const found: Exemplar[] = [];
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} \S+ # \{([^}]*)\} (\S+) (\S+)$/gm)) {
    if (m[1] !== name) continue;
    const sample = labelsOf(m[2]!);
    if (!Object.entries(labels).every(([k, v]) => sample[k] === v)) continue;
    found.push({ labels: sample, exemplar: labelsOf(m[3]!), value: Number(m[4]), timestamp: Number(m[5]) });
  }
  return found;
}
