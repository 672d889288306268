import { spawn } from 'node:child_process';
import { findBinary } from '../support/binaries.js';

/** Result of one promtool run. */
export interface PromtoolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** promtool from $PROMTOOL, the PATH, or the Debian package's /usr/bin/promtool; undefined when absent. */
export function findPromtool(): string | undefined {
  return findBinary('PROMTOOL', ['promtool']);
}

export const PROMTOOL = findPromtool();

/**
 * promtool tests run where promtool is installed; on CI (process.env.CI) they run
 * regardless and fail when it is missing, so a broken CI image cannot hide them.
 */
export const promtoolRequired = PROMTOOL !== undefined || !!process.env.CI;
export const PROMTOOL_SKIP_NOTE = promtoolRequired ? '' : ' (SKIPPED: promtool not installed; apt-get install prometheus, or set PROMTOOL)';

/** Runs `promtool args...` (optionally fed `stdin`), killing it after `timeoutMs`. */
export function promtool(args: string[], options: { cwd?: string; stdin?: string; timeoutMs?: number } = {}): Promise<PromtoolResult> {
  if (!PROMTOOL) return Promise.reject(new Error('promtool is not installed (Debian package "prometheus"); CI must install it'));
  const { cwd, stdin, timeoutMs = 20000 } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(PROMTOOL, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}
