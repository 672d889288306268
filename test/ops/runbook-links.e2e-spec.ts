import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PROMTOOL_SKIP_NOTE, promtool, promtoolRequired } from './promtool.js';

// Alertmanager and Grafana show runbook_url as a link: a relative path is a dead
// link there. Every alert links to <one base>#<alert>, and one command moves the
// base for both the rules and their promtool tests.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const PROM_DIR = join(ROOT, 'deploy', 'prometheus');
const SCRIPT = join(PROM_DIR, 'set-runbook-base.mjs');

interface Rules {
  groups: Array<{ rules: Array<{ alert: string; annotations: Record<string, string> }> }>;
}
interface RuleTests {
  tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: Array<{ exp_annotations?: Record<string, string> }> }> }>;
}

const read = (dir: string, name: string): string => readFileSync(join(dir, name), 'utf8');
const runbooksOf = (dir: string): Map<string, string> =>
  new Map((parse(read(dir, 'ws-alerts.yml')) as Rules).groups.flatMap((g) => g.rules).map((r) => [r.alert, r.annotations.runbook_url ?? '']));
const expectedRunbooksOf = (dir: string): Array<[string, string]> =>
  (parse(read(dir, 'ws-alerts.test.yml')) as RuleTests).tests
    .flatMap((t) => t.alert_rule_test)
    .flatMap((c) => c.exp_alerts.map((a) => [c.alertname, a.exp_annotations?.runbook_url ?? ''] as [string, string]));

/** GitHub's anchor for a Markdown heading. */
const anchorOf = (heading: string): string =>
  heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const docAnchors = new Set([...read(join(ROOT, 'docs'), 'operations.md').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchorOf(m[1]!)));

/** The repository's page of docs/operations.md, from the package's repository field. */
function shippedBase(): string {
  const pkg = JSON.parse(read(join(ROOT, 'libs', 'tracing-ws'), 'package.json')) as { repository: { url: string } };
  const repo = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
  return `${repo}/blob/main/docs/operations.md`;
}

describe('alert runbook links', () => {
  it('are absolute URLs, one base for every alert (this repository on GitHub), ending in the alert\'s runbook section', () => {
    const runbooks = runbooksOf(PROM_DIR);
    expect(runbooks.size).toBe(8);
    for (const [alert, url] of runbooks) {
      expect([alert, url]).toEqual([alert, `${shippedBase()}#${alert.toLowerCase()}`]);
      expect(new URL(url).protocol).toBe('https:');
      expect(docAnchors).toContain(new URL(url).hash.slice(1));
    }
  });

  it('are what the promtool tests expect, alert by alert', () => {
    const runbooks = runbooksOf(PROM_DIR);
    const expected = expectedRunbooksOf(PROM_DIR);
    expect(expected.length).toBeGreaterThanOrEqual(runbooks.size);
    for (const [alert, url] of expected) expect([alert, url]).toEqual([alert, runbooks.get(alert)]);
  });

  it('move to another base with one command, for the rules and their tests together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-base-'));
    try {
      for (const name of ['ws-alerts.yml', 'ws-alerts.test.yml']) cpSync(join(PROM_DIR, name), join(dir, name));
      const base = 'https://wiki.example.com/ops/ws-runbooks';
      const { stdout } = await run(process.execPath, [SCRIPT, base, dir]);
      expect(stdout).toContain('ws-alerts.yml: 8 runbook links');
      const moved = runbooksOf(dir);
      for (const [alert, url] of moved) expect(url).toBe(`${base}#${alert.toLowerCase()}`);
      for (const [alert, url] of expectedRunbooksOf(dir)) expect(url).toBe(moved.get(alert));
      // Nothing but the runbook lines changed.
      for (const name of ['ws-alerts.yml', 'ws-alerts.test.yml']) {
        const before = read(PROM_DIR, name).split('\n');
        const after = read(dir, name).split('\n');
        expect(after.length).toBe(before.length);
        expect(after.filter((line, i) => line !== before[i]).every((line) => line.includes(`runbook_url: "${base}#`))).toBe(true);
      }
      if (promtoolRequired) {
        const result = await promtool(['test', 'rules', 'ws-alerts.test.yml'], { cwd: dir });
        if (result.code !== 0) throw new Error(`promtool test rules failed after moving the base:\n${result.stdout}\n${result.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['docs/operations.md', 'wiki.example.com/ws', 'https://wiki.example.com/ws#section', ''])('refuses the base "%s" (not an absolute http(s) URL without an anchor)', async (base) => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-base-'));
    try {
      cpSync(join(PROM_DIR, 'ws-alerts.yml'), join(dir, 'ws-alerts.yml'));
      const outcome = await run(process.execPath, [SCRIPT, base, dir]).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
      expect(outcome).toBe(2);
      expect(read(dir, 'ws-alerts.yml')).toBe(read(PROM_DIR, 'ws-alerts.yml'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (promtoolRequired ? it : it.skip)(`pass promtool's rule tests as shipped${PROMTOOL_SKIP_NOTE}`, async () => {
    const result = await promtool(['test', 'rules', 'ws-alerts.test.yml'], { cwd: PROM_DIR });
    if (result.code !== 0) throw new Error(`promtool test rules failed:\n${result.stdout}\n${result.stderr}`);
  });
});
