import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

// The quick start says any Node >= 20 works (the scripts fetch Node 24), but `npm ci`
// on an older Node prints a block of EBADENGINE warnings. The README must say why,
// right after the command, and the claim must hold: every one of those packages
// accepts the Node the scripts run on, and the README's warning-free variant prints none.
// `npm ci --dry-run` reads the lockfile only: no download, no node_modules touched.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const WARNING_FREE = 'PATH="$(sh scripts/ensure-node.sh):$PATH" npm ci';

/** A user's environment: without the npm_* variables of the `npm test` that started Jest. */
function userEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, PATH: path };
}

/** The manifests `npm ci` reads (root, workspaces, lockfile) and ensure-node.sh, in a fresh folder. */
function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'first-run-'));
  for (const file of ['package.json', 'package-lock.json', 'scripts/ensure-node.sh', 'libs/tracing-ws/package.json', 'libs/tracing-ws-client/package.json']) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  return dir;
}

/** Runs `command` in a shell in `cwd`; resolves with stdout and stderr together. */
async function shell(command: string, cwd: string, path: string): Promise<string> {
  const { stdout, stderr } = await run('sh', ['-c', command], { cwd, env: userEnv(path), timeout: 120000, maxBuffer: 16 * 1024 * 1024 }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`${command} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
  return `${stdout}\n${stderr}`;
}

/** Packages npm warned about (EBADENGINE), as "name@version". */
const warnedPackages = (output: string): string[] => [...output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]!);

/** A directory holding a `node` older than 24.9 (the machine's own, on CI), if there is one. */
async function olderNodeDir(): Promise<string | undefined> {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!dir || !existsSync(join(dir, 'node')) || !existsSync(join(dir, 'npm'))) continue;
    const { stdout } = await run(join(dir, 'node'), ['-p', 'process.versions.node']).catch(() => ({ stdout: '' }));
    const [major = 0, minor = 0] = stdout.trim().split('.').map(Number);
    if (stdout && (major < 24 || (major === 24 && minor < 9))) return dir;
  }
  return undefined;
}

describe('the first npm ci', () => {
  it('is explained right after the quick start commands: which warnings, why harmless, how to avoid them', () => {
    const quickStart = /```sh\nnpm ci && npm start[\s\S]*?```\n\n([^\n]+(?:\n[^\n]+)*)/.exec(README);
    expect(quickStart).not.toBeNull();
    const paragraph = quickStart![1]!;
    expect(paragraph).toContain('`npm warn EBADENGINE`');
    expect(paragraph).toMatch(/harmless/);
    expect(paragraph).toContain('scripts/ensure-node.sh');
    expect(paragraph).toContain(`\`${WARNING_FREE}\``);
  });

  it("prints no engine warning with the README's variant (npm on the Node the scripts use)", async () => {
    const dir = checkout();
    try {
      const output = await shell(`${WARNING_FREE} --dry-run --ignore-scripts --no-audit --no-fund`, dir, process.env.PATH ?? '');
      expect(warnedPackages(output)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150000);

  it('on an older Node, warns only about packages that the Node the scripts use accepts', async () => {
    const older = await olderNodeDir();
    if (!older) {
      console.log('no Node older than 24.9 on this machine: the warnings themselves are not reproduced');
      return;
    }
    const dir = checkout();
    try {
      const path = `${older}${delimiter}${process.env.PATH ?? ''}`;
      const warned = warnedPackages(await shell('npm ci --dry-run --ignore-scripts --no-audit --no-fund', dir, path));
      expect(warned.length).toBeGreaterThan(0);
      // The same lockfile under the scripts' Node: none of them complains (previous test).
      const scriptsNode = warnedPackages(await shell(`${WARNING_FREE} --dry-run --ignore-scripts --no-audit --no-fund`, dir, path));
      expect(scriptsNode).toEqual([]);
      expect(warned.some((p) => p.startsWith('tracing-ws-monorepo@'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150000);
});
