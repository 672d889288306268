import { describe } from '@jest/globals';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * An executable named by `$<envVar>`, else the first of `names` found on the PATH or
 * in /usr/bin (where Debian's packages put them); undefined when there is none.
 */
export function findBinary(envVar: string, names: string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'];
  const fromEnv = process.env[envVar];
  const candidates = [...(fromEnv ? [isAbsolute(fromEnv) ? fromEnv : join(process.cwd(), fromEnv)] : []), ...names.flatMap((n) => dirs.map((d) => join(d, n)))];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there: next candidate
    }
  }
  return undefined;
}

/**
 * `describe` when every binary in `binaries` (what it is -> its path, or undefined)
 * was found. Without one: a skipped suite and a note on stderr locally, but a failing
 * suite under `CI=true` (CI installs them, so a missing one is a broken pipeline).
 */
export function describeWithBinaries(name: string, binaries: Record<string, string | undefined>, install: string, body: () => void): void {
  const missing = Object.entries(binaries)
    .filter(([, path]) => path === undefined)
    .map(([what]) => what);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const hint = `${missing.join(' and ')} not installed (${install})`;
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`${hint}, and CI=true requires these tests to run.`);
    });
    return;
  }
  // Straight to stderr: Jest drops console output of suites whose tests are all skipped.
  process.stderr.write(`\nSKIPPED "${name}": ${hint}. Under CI=true these tests fail instead.\n`);
  describe.skip(name, body);
}
