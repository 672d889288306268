import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SampleProcess } from '../support/sample-process.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

/** The two published libraries, as `npm pack` sees them. */
export const LIBRARIES = [
  { name: '@tracing-ws/nestjs', dir: join(ROOT, 'libs', 'tracing-ws') },
  { name: '@tracing-ws/client', dir: join(ROOT, 'libs', 'tracing-ws-client') },
] as const;

/** One entry of `npm pack --json`. */
export interface PackResult {
  name: string;
  version: string;
  filename: string;
  files: Array<{ path: string }>;
}

/**
 * The environment for a child npm: without the `npm_*` variables of the
 * `npm test` that started Jest (its prefix and workspace settings would point
 * the child at this repository), but with the user's npmrc and cache.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|userconfig|registry)$/i.test(key)) continue;
    if (key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

/** Runs npm in `cwd`, failing with its output after `timeoutMs`. */
export async function npm(cwd: string, args: string[], timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await run('npm', args, { cwd, env: npmEnv(), timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} (in ${cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/**
 * Packs a library (`--dry-run` only lists). Needs the built `dist`
 * (`npm test` builds before Jest starts).
 */
export async function pack(dir: string, destination?: string): Promise<PackResult> {
  if (!existsSync(join(dir, 'dist', 'index.js'))) {
    throw new Error(`${dir}/dist is missing: run "npm run build" (if dist was deleted by hand, delete ${dir}/.tsbuildinfo too)`);
  }
  const args = ['pack', '--json', ...(destination ? ['--pack-destination', destination] : ['--dry-run'])];
  const [result] = JSON.parse(await npm(dir, args, 60_000)) as PackResult[];
  return result!;
}

/**
 * A consumer app from `compat/<name>` copied into a scratch directory under the
 * OS temp dir (outside this repository, so nothing resolves from its
 * node_modules), with the packed libraries and its own pinned dependencies
 * installed from the registry, compiled by its own TypeScript, then started.
 */
export class ScratchConsumer {
  app?: SampleProcess;
  /** The same consumer serving its gateway over socket.io (TRANSPORT=socket.io). */
  ioApp?: SampleProcess;

  private constructor(
    readonly name: string,
    readonly root: string,
  ) {}

  /** The consumer's directory in the scratch space. */
  get dir(): string {
    return join(this.root, 'app');
  }

  static async prepare(name: string): Promise<ScratchConsumer> {
    const consumer = new ScratchConsumer(name, mkdtempSync(join(tmpdir(), `tracing-ws-${name}-`)));
    try {
      await consumer.install();
    } catch (err) {
      await consumer.dispose();
      throw err;
    }
    return consumer;
  }

  private async install(): Promise<void> {
    const packs = join(this.root, 'packs');
    mkdirSync(packs);
    cpSync(join(ROOT, 'compat', this.name), this.dir, { recursive: true, filter: (src) => !/[/\\](node_modules|dist)$/.test(src) });
    this.overrideDependencies();
    const tarballs: string[] = [];
    for (const lib of LIBRARIES) tarballs.push(join(packs, (await pack(lib.dir, packs)).filename));
    await npm(this.dir, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs], 120_000);
    await run(process.execPath, [join(this.dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: this.dir, timeout: 60_000 }).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`compiling ${this.name} failed: ${err.message}\n${err.stdout ?? ''}`);
    });
  }

  /**
   * COMPAT_<NAME>_DEPS='{"nestjs-cls":"6.3.1"}' swaps pinned dependencies, to try
   * another combination by hand (e.g. COMPAT_NEST11_DEPS for compat/nest11).
   */
  private overrideDependencies(): void {
    const overrides = process.env[`COMPAT_${this.name.toUpperCase()}_DEPS`];
    if (!overrides) return;
    const file = join(this.dir, 'package.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { dependencies: Record<string, string> };
    Object.assign(manifest.dependencies, JSON.parse(overrides) as Record<string, string>);
    writeFileSync(file, JSON.stringify(manifest, null, 2));
  }

  /** The version of a package installed in the consumer. */
  installedVersion(pkg: string): string {
    return (JSON.parse(readFileSync(join(this.dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  }

  /** A file of the compiled consumer. */
  compiled(file: string): string {
    return readFileSync(join(this.dir, 'dist', file), 'utf8');
  }

  async start(): Promise<SampleProcess> {
    this.app = await SampleProcess.start({}, join(this.dir, 'dist', 'main.js'));
    return this.app;
  }

  /** Starts a second process of the consumer on socket.io. */
  async startIo(): Promise<SampleProcess> {
    this.ioApp = await SampleProcess.start({ TRANSPORT: 'socket.io' }, join(this.dir, 'dist', 'main.js'));
    return this.ioApp;
  }

  /** Runs the consumer's `dist/<file>` with `args`; resolves with its stdout. */
  async node(file: string, args: string[], timeoutMs = 15_000): Promise<string> {
    const { stdout } = await run(process.execPath, [join(this.dir, 'dist', file), ...args], { cwd: this.dir, timeout: timeoutMs });
    return stdout;
  }

  /** Stops the app and removes the scratch directory (kept with KEEP_SCRATCH=1). */
  async dispose(): Promise<void> {
    await this.app?.stop();
    await this.ioApp?.stop();
    if (process.env.KEEP_SCRATCH !== '1') rmSync(this.root, { recursive: true, force: true });
  }
}
