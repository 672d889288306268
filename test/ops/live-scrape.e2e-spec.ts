import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { SampleProcess } from '../support/sample-process.js';
import { filterFamilies, metricFamilies, metricNamesIn, missingReason, sampledNames } from './promql.js';
import { PROMTOOL_SKIP_NOTE, promtool, promtoolRequired } from './promtool.js';
import { driveTraffic, scrape, startSample } from './sample-traffic.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every PromQL expression of a Grafana dashboard: panel targets (rows included) and query variables. */
function dashboardExpressions(dashboard: unknown): Array<{ where: string; expr: string }> {
  const found: Array<{ where: string; expr: string }> = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}[${i}]`));
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if (record.type === 'datasource') return; // a data source picker: its query is a plugin type
    const label = typeof record.title === 'string' ? `panel "${record.title}"` : typeof record.name === 'string' ? `variable $${record.name}` : where;
    for (const [key, value] of Object.entries(record)) {
      if ((key === 'expr' || key === 'query' || key === 'definition') && typeof value === 'string' && value.trim()) found.push({ where: label, expr: value });
      else visit(value, `${label}.${key}`);
    }
  };
  visit(dashboard, 'dashboard');
  return found;
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'tracing-ws.json'), 'utf8')) as unknown;
const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'ws-alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };

/** Names used by `expressions` that the scrape lacks, each with where it is used. */
function missingFrom(exposition: string, expressions: Array<{ where: string; expr: string }>): string[] {
  const families = metricFamilies(exposition);
  const problems = new Map<string, string[]>();
  for (const { where, expr } of expressions) {
    for (const name of metricNamesIn(expr)) {
      const reason = missingReason(name, families);
      if (reason) problems.set(reason, [...(problems.get(reason) ?? []), where]);
    }
  }
  return [...problems].map(([reason, wheres]) => `${reason} (used by ${[...new Set(wheres)].join('; ')})`);
}

describe('the deploy/ kit against a live scrape of the sample', () => {
  let sample: SampleProcess;
  let exposition: string;

  beforeAll(async () => {
    sample = await startSample();
    await driveTraffic(sample);
    exposition = await scrape(sample);
  });
  afterAll(async () => {
    await sample?.stop();
  });

  it('the dashboard queries only metrics the sample exposes', () => {
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThan(20);
    expect(missingFrom(exposition, expressions)).toEqual([]);
  });

  it('the alert rules query only metrics the sample exposes', () => {
    const expressions = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: r.alert, expr: r.expr })));
    expect(missingFrom(exposition, expressions)).toEqual([]);
  });

  it('the traffic driven gave the panels series to show', () => {
    const sampled = sampledNames(exposition);
    // ws_heartbeat_timeouts_total and ws_rate_limited_total only get a series on a
    // timeout / refusal; their families are checked with the dashboard above.
    const expected = [
      'ws_connections_active',
      'ws_connections_opened_total',
      'ws_connections_closed_total',
      'ws_connection_duration_seconds_bucket',
      'ws_handshake_rejections_total',
      'ws_messages_received_total',
      'ws_messages_sent_total',
      'ws_message_size_bytes_bucket',
      'ws_message_duration_seconds_bucket',
      'ws_message_errors_total',
      'http_request_duration_seconds_bucket',
    ];
    expect(expected.filter((name) => !sampled.has(name))).toEqual([]);
    for (const reason of ['origin_not_allowed', 'missing_credentials', 'invalid_credentials']) {
      expect(exposition).toMatch(new RegExp(`^ws_handshake_rejections_total\\{[^}]*reason="${reason}"[^}]*\\} 1$`, 'm'));
    }
  });

  (promtoolRequired ? describe : describe.skip)(`promtool check metrics${PROMTOOL_SKIP_NOTE}`, () => {
    it('parses the whole scrape and finds no problem in a ws_ or http_ metric', async () => {
      const result = await promtool(['check', 'metrics'], { stdin: exposition });
      // 0: clean, 3: lint findings only. prom-client's default nodejs_*_total gauges
      // draw lint findings that are the app's choice, not the library's.
      expect([0, 3]).toContain(result.code);
      const findings = `${result.stdout}\n${result.stderr}`.split('\n').filter((l) => l.trim());
      expect(findings.filter((l) => /\b(ws|http)_/.test(l))).toEqual([]);
    });

    it('finds the library families lint-clean on their own', async () => {
      const own = filterFamilies(exposition, (f) => f.startsWith('ws_') || f.startsWith('http_'));
      expect(metricFamilies(own).size).toBeGreaterThanOrEqual(14);
      const result = await promtool(['check', 'metrics'], { stdin: own });
      expect({ code: result.code, output: `${result.stdout}${result.stderr}`.trim() }).toEqual({ code: 0, output: '' });
    });
  });
});
