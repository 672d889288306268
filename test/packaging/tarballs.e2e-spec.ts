import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIBRARIES, pack } from './consumer.js';

interface Manifest {
  name: string;
  version: string;
  license: string;
  types: string;
  exports: Record<string, string | Record<string, string>>;
  engines: { node: string };
  peerDependencies?: Record<string, string>;
}

describe.each(LIBRARIES)('the npm package $name', ({ name, dir }) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

  it('packs only dist (no specs, no build info), README, LICENSE and package.json', async () => {
    const { files } = await pack(dir);
    const paths = files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
    expect(paths.filter((p) => !/^dist\/.+\.(js|d\.ts|js\.map)$/.test(p)).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(paths.filter((p) => /\.spec\.|tsbuildinfo/.test(p))).toEqual([]);
  });

  it('has an exports map whose every target is in the tarball, types first', async () => {
    const paths = new Set((await pack(dir)).files.map((f) => f.path));
    const root = manifest.exports['.'] as Record<string, string>;
    expect(Object.keys(root)[0]).toBe('types');
    for (const target of [...Object.values(manifest.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))), manifest.types]) {
      expect(paths.has(target.replace(/^\.\//, ''))).toBe(true);
    }
  });

  it('declares a semver version, the MIT licence and Node >= 22.12', () => {
    expect(manifest.name).toBe(name);
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines.node).toBe('>=22.12');
    for (const range of Object.entries(manifest.peerDependencies ?? {}).filter(([p]) => p.startsWith('@nestjs/')).map(([, r]) => r)) {
      expect(range).toBe('^11.1 || ^12');
    }
  });
});
