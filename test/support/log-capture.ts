import { Writable } from 'node:stream';
import { waitFor } from './wait.js';

/** A pino destination that keeps every line, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }

  /** Lines matching every field of `match`. */
  find(match: Record<string, unknown>): Array<Record<string, unknown>> {
    return this.lines.filter((l) => Object.entries(match).every(([k, v]) => l[k] === v));
  }

  /** Waits for a line matching `match`. */
  async waitFor(match: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown>> {
    return waitFor(() => this.find(match)[0], timeoutMs, `log line ${JSON.stringify(match)}`);
  }
}
