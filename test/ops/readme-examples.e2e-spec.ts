import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

// Every TypeScript snippet of the READMEs is a file of docs/examples, quoted
// verbatim (imports included), and those files type-check the way an application
// compiles them: server code without the DOM lib, browser code with it, both
// against the packages' built declarations. A snippet edited in the README alone,
// or an example that stops compiling, fails here.

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'docs', 'examples');
const READMES = ['README.md', 'libs/tracing-ws/README.md', 'libs/tracing-ws-client/README.md'];
/** The first line of an example that only stands in for the application's own code. */
const STAND_IN = '// Stand-in for the application';

interface Snippet {
  readme: string;
  line: number;
  /** The `<!-- example: path -->` marker just above the fence, if any. */
  example: string | undefined;
  code: string;
}

function snippets(readme: string): Snippet[] {
  const text = readFileSync(join(ROOT, readme), 'utf8');
  const found: Snippet[] = [];
  for (const m of text.matchAll(/(?:<!-- example: (\S+) -->\n)?```(?:ts|typescript)\n([\s\S]*?)```/g)) {
    found.push({ readme, line: text.slice(0, m.index).split('\n').length, example: m[1], code: m[2]! });
  }
  return found;
}

function exampleFiles(dir: string = EXAMPLES): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return exampleFiles(path);
    return entry.name.endsWith('.ts') ? [relative(ROOT, path)] : [];
  });
}

const all = READMES.flatMap(snippets);

describe('README snippets (docs/examples)', () => {
  it('finds the TypeScript snippets of both READMEs', () => {
    expect(all.filter((s) => s.readme === 'README.md').length).toBeGreaterThanOrEqual(7);
    expect(all.filter((s) => s.readme !== 'README.md').length).toBeGreaterThanOrEqual(2);
  });

  it.each(all.map((s) => [`${s.readme}: the snippet ${s.example ? `of ${s.example}` : `at line ${s.line}`}`, s] as const))('%s quotes that example file verbatim', (_where, snippet) => {
    expect(snippet.example).toMatch(/^docs\/examples\/.+\.ts$/);
    const file = join(ROOT, snippet.example!);
    expect(existsSync(file)).toBe(true);
    expect(snippet.code).toBe(readFileSync(file, 'utf8').replace(/\n*$/, '\n'));
  });

  it('quotes every example file that is not a stand-in for application code', () => {
    const quoted = new Set(all.map((s) => s.example));
    const examples = exampleFiles().filter((path) => !readFileSync(join(ROOT, path), 'utf8').startsWith(STAND_IN));
    expect(examples.filter((path) => !quoted.has(path))).toEqual([]);
  });

  it('imports the server-side socket type from ws wherever a snippet names WebSocket', () => {
    for (const path of exampleFiles().filter((p) => !p.includes('/browser/'))) {
      const code = readFileSync(join(ROOT, path), 'utf8');
      if (/\bWebSocket\b/.test(code.replace(/\/\/.*$/gm, ''))) expect([path, code]).toEqual([path, expect.stringMatching(/^import type \{ WebSocket \} from 'ws';/m)]);
    }
  });

  it.each([
    ['server snippets (no DOM lib)', 'docs/examples/tsconfig.json'],
    ['browser snippets (DOM lib)', 'docs/examples/browser/tsconfig.json'],
  ])('type-checks the %s with tsc', async (_what, project) => {
    // Resolved through node_modules: the built declarations (npm test builds before Jest).
    for (const lib of ['tracing-ws', 'tracing-ws-client']) expect(existsSync(join(ROOT, 'libs', lib, 'dist', 'index.d.ts'))).toBe(true);
    const result = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: ROOT }).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    expect(result).toBe('');
  }, 60000);
});
