import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { layeringViolations, LAYERS, packagesReachableFrom, readSources, TRANSPORT_PACKAGES } from './layers.js';

const SRC = join(import.meta.dirname, '../../libs/tracing-ws/src');

describe('the library keeps its layers', () => {
  const files = readSources(SRC);

  it('reads the whole source tree', () => {
    expect(files.length).toBeGreaterThan(40);
    expect(files.some((f) => f.path === 'transports/ws/tracing-ws.adapter.ts')).toBe(true);
  });

  it('has no import back up the layers, no import loop, and no transport package in the core', () => {
    expect(layeringViolations(files)).toEqual([]);
  });

  it('loads no socket.io package from the root or the ws entry point, and no ws package from the socket.io one', () => {
    const io = TRANSPORT_PACKAGES['socket.io']!;
    const ws = TRANSPORT_PACKAGES.ws!;
    for (const entry of ['index.ts', 'transports/ws/index.ts']) {
      expect([...packagesReachableFrom(entry, files)].filter((p) => io.includes(p))).toEqual([]);
    }
    const fromIo = packagesReachableFrom('transports/socket.io/index.ts', files);
    expect(fromIo.has('socket.io') || fromIo.has('@nestjs/platform-socket.io')).toBe(true);
    expect([...fromIo].filter((p) => ws.includes(p))).toEqual([]);
  });

  it('loads both transports from the composite entry point only: no transport imports it', () => {
    const fromComposite = packagesReachableFrom('composite/index.ts', files);
    expect(fromComposite.has('@nestjs/platform-ws') && fromComposite.has('@nestjs/platform-socket.io')).toBe(true);
    const intoComposite = files.filter((f) => !f.path.startsWith('composite/') && f.imports.some((spec) => spec.includes('composite/')));
    expect(intoComposite.map((f) => f.path)).toEqual([]);
  });

  it('keeps the ws packages out of every core file', () => {
    const core = files.filter((f) => f.path.startsWith('core/'));
    expect(core.length).toBeGreaterThan(30);
    for (const file of core) expect(file.imports.filter((s) => s === 'ws' || s.startsWith('@nestjs/platform-'))).toEqual([]);
  });
});

describe('the layering check', () => {
  it('reports an import back up the layers', () => {
    const problems = layeringViolations([
      { path: 'core/model/a.ts', imports: ['../dispatch/b.js'] },
      { path: 'core/dispatch/b.ts', imports: [] },
    ]);
    expect(problems).toEqual([`core/model/a.ts (${LAYERS[0]}) imports core/dispatch/b.ts (core/dispatch): back up the layers`]);
  });

  it('reports an import loop, even inside one layer', () => {
    const problems = layeringViolations([
      { path: 'core/broadcast/a.ts', imports: ['./b.js'] },
      { path: 'core/broadcast/b.ts', imports: ['./a.js'] },
    ]);
    expect(problems).toEqual(['import loop: core/broadcast/a.ts -> core/broadcast/b.ts -> core/broadcast/a.ts']);
  });

  it('reports a transport package imported by the core or by another transport', () => {
    const problems = layeringViolations([
      { path: 'core/dispatch/a.ts', imports: ['ws', 'socket.io'] },
      { path: 'transports/ws/b.ts', imports: ['../socket.io/c.js'] },
      { path: 'transports/socket.io/c.ts', imports: ['@nestjs/platform-socket.io'] },
    ]);
    expect(problems).toEqual([
      'core/dispatch/a.ts imports ws: only transports/ws may',
      'core/dispatch/a.ts imports socket.io: only transports/socket.io may',
      'transports/ws/b.ts imports transports/socket.io/c.ts: one transport imports another',
    ]);
  });
});

describe('the shipped sources', () => {
  it('point at no document outside the repository (their comments ship in the .d.ts files)', () => {
    const libs = join(import.meta.dirname, '../../libs');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules' && entry.name !== 'dist') walk(full);
        } else if (/\.(ts|js|mjs)$/.test(entry.name) && /DESIGN\.md|PERF-NOTES|\.\.\/shared\//.test(readFileSync(full, 'utf8'))) {
          offenders.push(full);
        }
      }
    };
    walk(libs);
    expect(offenders).toEqual([]);
  });
});
