#!/usr/bin/env node
// Points every alert's runbook_url at another copy of the runbooks: rewrites the
// base (everything before "#<alert>") of each runbook_url in ws-alerts.yml and in
// its promtool tests, ws-alerts.test.yml, so that both keep agreeing.
//   node deploy/prometheus/set-runbook-base.mjs https://wiki.example.com/ws-runbooks
// The shipped base is this repository's docs/operations.md on GitHub. An optional second
// argument names the folder holding the two files (default: this script's). Any Node >= 18.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = ['ws-alerts.yml', 'ws-alerts.test.yml'];
const RUNBOOK = /^(\s*runbook_url: )"([^"#]*)#([a-z0-9-]+)"$/gm;

const base = process.argv[2] ?? '';
let url;
try {
  url = new URL(base);
} catch {
  url = undefined;
}
if (!url || !/^https?:$/.test(url.protocol) || base.includes('#')) {
  console.error('usage: node deploy/prometheus/set-runbook-base.mjs <absolute http(s) URL of the runbook page, without #anchor>');
  process.exit(2);
}

const dir = process.argv[3] ?? dirname(fileURLToPath(import.meta.url));
for (const name of FILES) {
  const path = join(dir, name);
  let count = 0;
  const text = readFileSync(path, 'utf8').replace(RUNBOOK, (_all, head, _old, anchor) => {
    count++;
    return `${head}"${base}#${anchor}"`;
  });
  writeFileSync(path, text);
  console.log(`${name}: ${count} runbook links now start with ${base}`);
}
