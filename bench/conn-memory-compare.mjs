// Summarises bench/conn-memory.mjs --json files (e.g. three runs of the same command):
// bytes per connection of every category and of the validation figures, per scenario, as
// the median of the runs with their min–max, in a Markdown table.
//
//   node bench/conn-memory-compare.mjs run1.json run2.json run3.json

import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: conn-memory-compare.mjs <run.json>...');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const scenarios = [...new Set(runs.flatMap((r) => r.results.map((x) => x.scenario)))];
const rowsOf = (s) => runs.map((r) => r.results.find((x) => x.scenario === s)).filter(Boolean);
const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const cell = (xs) => {
  const m = median(xs);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return Math.round(lo) === Math.round(hi) ? `${Math.round(m)}` : `${Math.round(m)} (${Math.round(lo)}–${Math.round(hi)})`;
};
const lines = [];
lines.push(`| bytes per connection, median of ${runs.length} runs (min–max) | ${scenarios.map((s) => `s${s}`).join(' | ')} |`);
lines.push(`|---|${scenarios.map(() => '---').join('|')}|`);
// ws and socket.io scenarios have different transport parts: the union, '–' where a scenario has no such part.
const categories = [...new Set(scenarios.flatMap((s) => Object.keys(rowsOf(s)[0].categories)))];
const partCell = (s, c) => (rowsOf(s)[0].categories[c] ? cell(rowsOf(s).map((r) => r.categories[c].jsBytesPerConn)) : '–');
for (const c of categories) lines.push(`| ${c} (JS heap) | ${scenarios.map((s) => partCell(s, c)).join(' | ')} |`);
const rest = [
  ['shared growth (new objects no per-connection root dominates), JS heap', (r) => r.sharedGrowthJsPerConn],
  ['**new JS objects, all**', (r) => Object.values(r.categories).reduce((n, c) => n + c.jsBytesPerConn, 0) + r.sharedGrowthJsPerConn],
  ['old objects freed or resized', (r) => r.oldChangeJsPerConn],
  ['snapshot JS heap delta (B − A)', (r) => r.snapshotDeltaJsPerConn],
  ['**process heapUsed delta** (after full GCs)', (r) => r.heapUsedPerConn],
  ['native nodes in the categories (outside the JS heap)', (r) => Object.values(r.categories).reduce((n, c) => n + c.nativeBytesPerConn, 0)],
  ['native nodes, shared growth (TCP handle wraps…)', (r) => r.sharedGrowthNativePerConn],
  ['RSS delta', (r) => r.rssPerConn],
];
for (const [name, f] of rest) lines.push(`| ${name} | ${scenarios.map((s) => cell(rowsOf(s).map(f))).join(' | ')} |`);
console.log(lines.join('\n'));
for (const s of scenarios) {
  const r = rowsOf(s)[0];
  console.log(`\ns${s} (run 1), largest classes per category:`);
  for (const [name, c] of Object.entries(r.categories)) if (c.roots) console.log(`  ${name}: ${c.top.map((t) => `${t.key} ×${t.countPerConn} ${Math.round(t.bytesPerConn)} B`).join('; ')}`);
  console.log(`  shared growth: ${r.sharedGrowthTop.map((t) => `${t.key} ×${t.countPerConn} ${Math.round(t.bytesPerConn)} B`).join('; ')}`);
}
