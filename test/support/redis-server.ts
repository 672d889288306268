import { describe } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

const BINARY = process.env.REDIS_SERVER_BIN ?? 'redis-server';

/** True when a `redis-server` binary can be run here. */
export function redisServerInstalled(): boolean {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && /Redis server/.test(probe.stdout);
}

/**
 * `describe` when redis-server is installed. Without it: a skipped suite and a
 * clear message locally, but a failing suite under `CI=true` (CI installs the
 * Debian package, so a missing binary there is a broken pipeline, not a skip).
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (redisServerInstalled()) {
    describe(name, body);
    return;
  }
  const hint = 'redis-server is not installed (Debian: apt-get install -y redis-server); the Redis scale-out tests need a real one';
  if (process.env.CI) {
    describe(name, () => {
      throw new Error(`${hint}, and CI=true requires them to run.`);
    });
    return;
  }
  // Straight to stderr: Jest drops console output of suites whose tests are all skipped.
  process.stderr.write(`\nSKIPPED "${name}": ${hint}. Under CI=true these tests fail instead.\n`);
  describe.skip(name, body);
}

/** A free TCP port on 127.0.0.1 (nothing listens on it when this resolves). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A real, throwaway redis-server on a loopback port: no persistence, killed at the end. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(readonly port: number) {}

  /** Starts redis-server on `port` (a free one by default); resolves once it accepts connections. */
  static async start(port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()));
    await server.startProcess();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the server (SIGKILL: an outage, not a tidy shutdown) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Freezes the server (SIGSTOP): it keeps its connections but answers nothing, like a hung host. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused server run again (SIGCONT): it then executes what it had received. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts it again on the same port, empty (nothing was persisted). */
  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  private async startProcess(): Promise<void> {
    this.output = '';
    const child = spawn(BINARY, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server on port ${this.port} not ready within 10 s:\n${this.output}`)), 10000);
      const onData = (chunk: Buffer): void => {
        this.output += chunk.toString('utf8');
        if (this.output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
      child.once('error', fail);
      child.once('exit', (code) => fail(new Error(`redis-server exited (${code}) before it was ready:\n${this.output}`)));
    });
    // Keep draining its output so a chatty server never blocks on a full pipe.
    child.stdout!.resume();
  }
}
