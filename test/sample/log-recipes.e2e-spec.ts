import { afterEach, describe, expect, it } from '@jest/globals';
import { TracingWsClient } from '@tracing-ws/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../support/wait.js';

// The README's "Reading the sample's logs" commands, run exactly as written (in a
// shell, from the repository root, through npm), against live traffic.

const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The shell commands of the README's log recipes block (comments dropped). */
function recipes(): string[] {
  const section = /### Reading the sample's logs\n([\s\S]*?)\n#{2,3} /.exec(README)?.[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** The environment of a user's shell: without the npm_* variables of the `npm test` that started Jest. */
function shellEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NO_COLOR') continue;
    env[key] = value;
  }
  return { ...env, PORT: String(port), HOST: '127.0.0.1' };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A shell command line running in its own process group, with its stdout split in lines. */
class Pipeline {
  readonly stdout: string[] = [];
  stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(
    readonly command: string,
    readonly port: number,
    private readonly child: ChildProcess = spawn('sh', ['-c', command], { cwd: ROOT, env: shellEnv(port), detached: true, stdio: ['ignore', 'pipe', 'pipe'] }),
  ) {
    let partial = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop()!;
      this.stdout.push(...parts);
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Waits for a stdout line matching `test`. */
  line(test: (line: string) => boolean, timeoutMs = 60000): Promise<string> {
    return waitFor(() => this.stdout.find(test), timeoutMs, `a line of "${this.command}"; stdout so far:\n${this.stdout.join('\n')}\nstderr:\n${this.stderr}`);
  }

  /** True while any process of the pipeline's group (sh, npm, the sample, the reader) is alive. */
  private alive(): boolean {
    try {
      process.kill(-this.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Ctrl-C, as a terminal sends it: SIGINT to every process of the pipeline. Resolves
   * once all of them have exited; fails (after killing them) if any is still there
   * after `timeoutMs`, e.g. an app stuck writing logs nobody reads any more.
   */
  async interrupt(timeoutMs = 15000): Promise<void> {
    if (this.child.pid === undefined || !this.alive()) return;
    process.kill(-this.child.pid, 'SIGINT');
    try {
      await waitFor(() => !this.alive(), timeoutMs, `every process of "${this.command}" to exit after Ctrl-C`);
    } catch (err) {
      process.kill(-this.child.pid, 'SIGKILL');
      throw err;
    }
    await this.exited;
  }

  /** Kills what is left (after a failed test). */
  kill(): void {
    if (this.child.pid !== undefined && this.alive()) process.kill(-this.child.pid, 'SIGKILL');
  }
}

/** Waits until the sample started by `pipeline` answers, then has alice send a chat message. */
async function chatAsAlice(pipeline: Pipeline): Promise<string> {
  await waitFor(
    () => fetch(`http://127.0.0.1:${pipeline.port}/health`).then((r) => r.ok, () => false),
    90000,
    `the sample of "${pipeline.command}" to answer on port ${pipeline.port}; stderr:\n${pipeline.stderr}`,
  );
  const chat = new TracingWsClient({ url: `ws://127.0.0.1:${pipeline.port}/chat`, token: 'alice-token', reconnect: false });
  try {
    await chat.connect();
    await chat.join('lobby');
    const reply = await chat.request('message', { room: 'lobby', text: 'read me' });
    return reply.traceId!;
  } finally {
    chat.close();
  }
}

describe("the README's log recipes, run as written", () => {
  const running: Pipeline[] = [];
  const start = async (command: string): Promise<Pipeline> => {
    const pipeline = new Pipeline(command, await freePort());
    running.push(pipeline);
    return pipeline;
  };
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });

  it('gives one command for machines and one for people, both on npm start --silent', () => {
    const commands = recipes();
    expect(commands).toHaveLength(2);
    for (const command of commands) expect(command).toMatch(/^npm start --silent \| /);
  });

  it('for machines: every stdout line is a JSON log line, and the filter finds the user\'s message', async () => {
    const command = recipes()[0]!;
    expect(command).toContain('jq');
    const pipeline = await start(command);
    const traceId = await chatAsAlice(pipeline);
    await pipeline.line((l) => l.includes('"ws.message_handled"') && l.includes(traceId));
    const entries = pipeline.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(entry).toMatchObject({ user_id: 'alice', level: expect.any(Number), time: expect.any(Number) });
    expect(pipeline.stderr).not.toMatch(/parse error/i);
    // Ctrl-C stops the whole pipeline, the sample included (its port is free again).
    await pipeline.interrupt();
    await expect(fetch(`http://127.0.0.1:${pipeline.port}/health`)).rejects.toThrow();
  }, 120000);

  it('for people: local time with milliseconds, level names and key=value, no raw JSON', async () => {
    const command = recipes()[1]!;
    const pipeline = await start(command);
    const listening = await pipeline.line((l) => / sample\.listening /.test(l));
    expect(listening).toMatch(new RegExp(`^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO +sample\\.listening port=${pipeline.port} transport=ws$`));
    const traceId = await chatAsAlice(pipeline);
    const handled = await pipeline.line((l) => l.includes('ws.message_handled') && l.includes(`trace_id=${traceId}`));
    expect(handled).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO +ws\.message_handled .*user_id=alice .*event=message/);
    // Nest's own lines carry their context; nothing is left as JSON.
    expect(pipeline.stdout.some((l) => /^\d{2}:\d{2}:\d{2}\.\d{3} INFO +\[NestApplication\] Nest application successfully started/.test(l))).toBe(true);
    expect(pipeline.stdout.filter((l) => l.startsWith('{'))).toEqual([]);
    // Ctrl-C: the reader keeps reading until the sample has stopped, so its last lines show.
    await pipeline.interrupt();
    expect(pipeline.stdout.at(-1)).toMatch(/ INFO +sample\.stopped signal=SIGINT$/);
  }, 120000);

  it('plain npm start puts npm\'s banner on stdout (why the recipes say --silent)', async () => {
    const pipeline = await start('npm start');
    const first = await pipeline.line((l) => l.trim() !== '');
    expect(first).toMatch(/^> tracing-ws-monorepo@\S+ start$/);
    expect(() => JSON.parse(first)).toThrow();
    await pipeline.interrupt();
  }, 120000);
});
