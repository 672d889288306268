import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WS_CLOSE_CODE_LABELS, WS_CLOSE_CODES } from './ws-protocol.js';

describe('close codes', () => {
  it('label every code the server sends', () => {
    for (const code of Object.values(WS_CLOSE_CODES)) expect(WS_CLOSE_CODE_LABELS).toContain(code);
  });

  it("are exactly the codes of the README's close code table", () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Close codes'), readme.indexOf('### Spans'));
    const documented = [...section.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
    expect(documented).toEqual([...WS_CLOSE_CODE_LABELS]);
  });
});
