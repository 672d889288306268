// Bytes allocated per message, by package and by function, from the sampling heap
// profiles that `bench/run.mjs --mode rate --alloc-profile` writes (every allocation of
// the measured window, including objects already collected).
//
//   node bench/alloc-summary.mjs <a.heapprofile> [b.heapprofile] --per <msgs a>[,<msgs b>] [--top 25]
//
// Sampled profiles are estimates (one sample per ~4 KiB allocated, scaled by V8): read
// them as where the bytes come from, and compare two scenarios of the same run.

import { readFileSync } from 'node:fs';
import { category } from './profile-summary.mjs';

const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const TOP = Number(opt('top') ?? 25);
const per = (opt('per') ?? '').split(',').map(Number);
if (files.length === 0 || per.length !== files.length || per.some((n) => !(n > 0))) {
  console.error('usage: node bench/alloc-summary.mjs <a.heapprofile> [b.heapprofile] --per <msgs a>[,<msgs b>] [--top 25]');
  process.exit(2);
}

function summarise(file, messages) {
  const { head } = JSON.parse(readFileSync(file, 'utf8'));
  const byPackage = new Map();
  const byFunction = new Map();
  let total = 0;
  const add = (map, key, bytes) => map.set(key, (map.get(key) ?? 0) + bytes);
  const walk = (node) => {
    const f = node.callFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      add(byPackage, category(f.url, f.functionName), node.selfSize);
      const where = f.url ? f.url.replace(/^.*\/(node_modules\/|libs\/|bench\/)/, '$1').replace(/^file:\/\//, '') : '';
      add(byFunction, `\`${f.functionName || '(anonymous)'} ${where}${f.url ? `:${f.lineNumber + 1}` : ''}\``, node.selfSize);
    }
    for (const c of node.children ?? []) walk(c);
  };
  walk(head);
  const perMsg = (bytes) => (bytes / messages).toFixed(0);
  console.log(`\n### ${file}\n\n${messages} messages, ${(total / 2 ** 20).toFixed(1)} MiB sampled → **${perMsg(total)} B per message**\n`);
  console.log('| package | B / msg | % |\n|---|---|---|');
  for (const [k, v] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${perMsg(v)} | ${((v / total) * 100).toFixed(1)} |`);
  console.log(`\nTop ${TOP} allocating functions (self):\n\n| B / msg | % | function |\n|---|---|---|`);
  for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${perMsg(v)} | ${((v / total) * 100).toFixed(1)} | ${k} |`);
  return total / messages;
}

const totals = files.map((f, i) => summarise(f, per[i]));
if (totals.length === 2) console.log(`\nB per message: ${totals[0].toFixed(0)} → ${totals[1].toFixed(0)} (× ${(totals[1] / totals[0]).toFixed(2)})`);
