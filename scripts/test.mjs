// `npm test`: type-check sources and tests, build the sample (its e2e test runs
// the real built app), run every Jest suite, and end with the line CI reads:
// "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' }).status ?? 1;
const fail = (what) => {
  console.log(`${what} failed`);
  console.log('0 passed, 1 failed');
  process.exit(1);
};

if (run(['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) fail('type-check');
if (run(['node_modules/typescript/bin/tsc', '-b', 'apps/sample/tsconfig.app.json', 'libs/tracing-ws-client/tsconfig.lib.json']) !== 0) fail('build');

const results = join(root, '.jest-results.json');
rmSync(results, { force: true });
const status = run([
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
  'node_modules/jest/bin/jest.js',
  '--json',
  `--outputFile=${results}`,
  ...(process.env.CI ? ['--ci'] : []),
  ...process.argv.slice(2),
]);
if (!existsSync(results)) fail('jest');
const summary = JSON.parse(readFileSync(results, 'utf8'));
const failedSuites = summary.numFailedTestSuites - summary.testResults.filter((r) => r.assertionResults.some((a) => a.status === 'failed')).length;
const failed = summary.numFailedTests + Math.max(0, failedSuites);
console.log(`${summary.numPassedTests} passed, ${failed} failed${summary.numPendingTests ? `, ${summary.numPendingTests} skipped` : ''}`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
