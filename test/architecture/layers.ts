import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

/**
 * The library's layers, bottom to top. A file may import from its own layer and
 * the layers below it, never from one above.
 */
export const LAYERS = [
  'core/model',
  'core/options',
  'core/telemetry',
  'core/connection',
  'core/policy',
  'core/handshake',
  'core/dispatch',
  'core/broadcast',
  'core/lifecycle',
  'core/admin',
  'core/module',
  'transports/*',
  'composite',
  'index.ts',
] as const;

/** Packages of a transport: only that transport's folder may import them. */
export const TRANSPORT_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  ws: ['ws', '@nestjs/platform-ws'],
  'socket.io': ['socket.io', '@nestjs/platform-socket.io', '@socket.io/redis-adapter', '@socket.io/redis-streams-adapter'],
};

/** A source file: its path relative to `src/` and the specifiers it imports. */
export interface SourceFile {
  readonly path: string;
  readonly imports: readonly string[];
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Every non-spec `.ts` file under `root`, with its import specifiers (static, re-export and dynamic). */
export function readSources(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const text = readFileSync(full, 'utf8');
        const imports = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
        out.push({ path: relative(root, full).split('\\').join('/'), imports });
      }
    }
  };
  walk(root);
  return out;
}

/** The layer index of a file, or -1 when it sits in no layer. */
export function layerOf(path: string): number {
  return LAYERS.findIndex((layer) => {
    if (layer.endsWith('.ts')) return path === layer;
    if (layer.endsWith('/*')) return path.startsWith(layer.slice(0, -1)) && path.split('/').length > 2;
    return path.startsWith(`${layer}/`);
  });
}

function resolveRelative(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
}

/** The packages a file loads, directly or through the library's own files it imports (static and dynamic). */
export function packagesReachableFrom(entry: string, files: readonly SourceFile[]): Set<string> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of byPath.get(path)?.imports ?? []) {
      if (spec.startsWith('.')) visit(resolveRelative(path, spec));
      else packages.add(spec);
    }
  };
  visit(entry);
  return packages;
}

/** Every rule the source tree breaks, one line each (empty when it keeps them all). */
export function layeringViolations(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  const known = new Set(files.map((f) => f.path));
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const layer = layerOf(file.path);
    if (layer < 0) problems.push(`${file.path}: in no layer`);
    const targets: string[] = [];
    for (const spec of file.imports) {
      if (spec.startsWith('.')) {
        const target = resolveRelative(file.path, spec);
        if (!known.has(target)) {
          problems.push(`${file.path}: imports ${spec}, which is not a source file`);
          continue;
        }
        targets.push(target);
        const targetLayer = layerOf(target);
        if (targetLayer > layer) problems.push(`${file.path} (${LAYERS[layer]}) imports ${target} (${LAYERS[targetLayer]}): back up the layers`);
        const [fromTop, fromTransport] = file.path.split('/');
        const [toTop, toTransport] = target.split('/');
        if (fromTop === 'transports' && toTop === 'transports' && fromTransport !== toTransport) {
          problems.push(`${file.path} imports ${target}: one transport imports another`);
        }
      } else {
        for (const [transport, packages] of Object.entries(TRANSPORT_PACKAGES)) {
          if (!packages.some((p) => spec === p || spec.startsWith(`${p}/`))) continue;
          if (!file.path.startsWith(`transports/${transport}/`)) problems.push(`${file.path} imports ${spec}: only transports/${transport} may`);
        }
      }
    }
    edges.set(file.path, targets);
  }
  problems.push(...cycles(edges));
  return problems;
}

/** Import loops, each reported once as "a -> b -> a". */
function cycles(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') found.push(`import loop: ${[...stack.slice(stack.indexOf(next)), next].join(' -> ')}`);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}
