import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMTOOL_SKIP_NOTE, promtool, promtoolRequired } from './promtool.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PROM_DIR = join(ROOT, 'deploy', 'prometheus');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesFile = parse(readFileSync(join(PROM_DIR, 'ws-alerts.yml'), 'utf8')) as { groups: Array<{ name: string; rules: AlertRule[] }> };
const alerts = rulesFile.groups.flatMap((g) => g.rules);
const operationsDoc = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');

/** GitHub's anchor for a Markdown heading. */
const anchorOf = (heading: string): string =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const docAnchors = new Set([...operationsDoc.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));

describe('alert rules (deploy/prometheus/ws-alerts.yml)', () => {
  it('covers every alert the operations kit promises', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'HttpErrorRatioHigh',
        'HttpLatencyHigh',
        'WsBroadcastBackendDown',
        'WsConnectionsDropped',
        'WsHandshakeRejectionsSpiking',
        'WsHeartbeatTimeoutsSpiking',
        'WsMessageErrorRatioHigh',
        'WsMessageLatencyHigh',
      ].sort(),
    );
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, summary, description and a runbook section in docs/operations.md', (_name, alert) => {
    expect(['warning', 'critical']).toContain(alert.labels?.severity);
    expect(alert.annotations?.summary?.length).toBeGreaterThan(10);
    expect(alert.annotations?.description?.length).toBeGreaterThan(20);
    const runbook = alert.annotations?.runbook_url ?? '';
    // Absolute (issue 14, point 12); the base itself is checked in runbook-links.e2e-spec.ts.
    expect(runbook).toMatch(new RegExp(`^https?://[^\\s#]+#${alert.alert.toLowerCase()}$`));
    expect(docAnchors).toContain(runbook.split('#')[1]);
  });

  it('uses the thresholds and durations the issue specifies', () => {
    const byName = new Map(alerts.map((a) => [a.alert, a]));
    expect(byName.get('WsMessageLatencyHigh')).toMatchObject({ for: '5m' });
    expect(byName.get('WsMessageLatencyHigh')!.expr).toMatch(/histogram_quantile\(0\.99,[\s\S]*ws_message_duration_seconds_bucket[\s\S]*> 1\s*$/);
    expect(byName.get('WsMessageErrorRatioHigh')).toMatchObject({ for: '5m' });
    expect(byName.get('WsMessageErrorRatioHigh')!.expr).toMatch(/> 0\.05\s*$/);
    expect(byName.get('WsHandshakeRejectionsSpiking')!.expr).toMatch(/by \(job, path, reason\)/);
    expect(byName.get('WsConnectionsDropped')!.expr).toMatch(/< 0\.5 \* sum by \(job, path\) \(ws_connections_active offset 5m\)/);
    expect(byName.get('HttpLatencyHigh')).toMatchObject({ for: '5m' });
    expect(byName.get('HttpErrorRatioHigh')).toMatchObject({ for: '5m' });
    expect(byName.get('HttpErrorRatioHigh')!.expr).toMatch(/status=~"5\.\."[\s\S]*> 0\.05\s*$/);
  });
});

(promtoolRequired ? describe : describe.skip)(`promtool on the Prometheus files${PROMTOOL_SKIP_NOTE}`, () => {
  it('accepts the alert rules (promtool check rules)', async () => {
    const result = await promtool(['check', 'rules', 'ws-alerts.yml'], { cwd: PROM_DIR });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('passes the rule unit tests (promtool test rules ws-alerts.test.yml)', async () => {
    const result = await promtool(['test', 'rules', 'ws-alerts.test.yml'], { cwd: PROM_DIR });
    if (result.code !== 0) throw new Error(`promtool test rules failed:\n${result.stdout}\n${result.stderr}`);
    expect(result.stdout).toContain('SUCCESS');
  });

  it('has a unit test for every alert, firing and not firing', () => {
    const tests = parse(readFileSync(join(PROM_DIR, 'ws-alerts.test.yml'), 'utf8')) as {
      tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alerts) {
      expect(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0)).toBe(true);
      expect(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0)).toBe(true);
    }
  });

  it('accepts the scrape config and the rule files it loads (promtool check config)', async () => {
    const result = await promtool(['check', 'config', 'prometheus.yml'], { cwd: PROM_DIR });
    if (result.code !== 0) throw new Error(`promtool check config failed:\n${result.stdout}\n${result.stderr}`);
    expect(result.stdout).toContain('SUCCESS: 1 rule files found');
  });
});
