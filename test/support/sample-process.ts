import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Built by `npm test` (tsc -b) before Jest starts. */
export const SAMPLE_ENTRY = join(ROOT, 'dist', 'apps', 'sample', 'main.js');
/** A small traced app with slow and floating-promise handlers (test/fixtures). */
export const RESILIENCE_APP = join(ROOT, 'test', 'fixtures', 'resilience-app.mjs');

/** The real sample app, built, running as its own process on a free port. */
export class SampleProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  port = 0;
  private exit: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        this.raw.push(line);
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line (e.g. a crash trace): kept in raw only
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => this.raw.push(chunk.toString('utf8')));
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /**
   * Starts the sample (or another `entry` that logs `sample.listening` with its
   * port) with `env` added to this process's environment; resolves once it listens.
   */
  static async start(env: Record<string, string> = {}, entry: string = SAMPLE_ENTRY): Promise<SampleProcess> {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" (npm test does)`);
    const child = spawn(process.execPath, ['--enable-source-maps', entry], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sample = new SampleProcess(child);
    const listening = await waitFor(() => sample.find({ msg: 'sample.listening' })[0], 20000, `the sample to listen; output so far:\n${sample.raw.join('\n')}`);
    sample.port = Number(listening.port);
    return sample;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  find(match: Record<string, unknown>): Array<Record<string, unknown>> {
    return this.lines.filter((l) => Object.entries(match).every(([k, v]) => l[k] === v));
  }

  async waitForLog(match: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return waitFor(() => this.find(match)[0], timeoutMs, `sample log line ${JSON.stringify(match)}`);
  }

  /** Sends `signal` and resolves with the exit code (killing it after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}
