// Aggregates a V8 .cpuprofile (node --cpu-prof) by package and by function.
//
//   node bench/profile-summary.mjs <a.cpuprofile> [b.cpuprofile] [--top 25] [--per N]
//
// With two profiles (e.g. scenario 2 then scenario 3) it also prints the difference per
// package. --per N divides times by N/1e5 (N = messages handled while profiling), so
// columns read "ms per 100k messages".
// Self time: samples whose top frame is the function. Inclusive time: samples with the
// function anywhere on the stack (counted once per sample).

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const files = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const TOP = opt('top', 25);

export function category(url, name) {
  if (!url) {
    if (name === '(garbage collector)') return 'V8 GC';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/native (program)';
    return 'native/builtin';
  }
  if (url.includes('/libs/tracing-ws/')) return 'tracing-ws (library)';
  if (url.includes('/bench/')) return 'bench gateway/server';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  if (m) {
    const pkg = m[m.length - 1].replace('node_modules/', '');
    if (pkg.startsWith('@opentelemetry/')) return `otel ${pkg.slice(15)}`;
    if (['pino', 'sonic-boom', 'pino-std-serializers', 'fast-redact', 'pino-http', 'nestjs-pino', 'thread-stream', 'on-exit-leak-free', 'quick-format-unescaped', 'atomic-sleep', 'fast-safe-stringify'].includes(pkg)) return `pino (${pkg})`;
    if (pkg === 'prom-client' || pkg === '@willsoto/nestjs-prometheus' || pkg === 'tdigest' || pkg === 'bintrees') return `prom-client (${pkg})`;
    if (pkg.startsWith('@nestjs/')) return pkg;
    return pkg;
  }
  if (url.startsWith('node:')) {
    if (url.startsWith('node:internal/async_hooks') || url.includes('async_local_storage') || url.includes('async_context_frame')) return 'node async context (ALS)';
    return 'node core';
  }
  return 'other';
}

function load(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map();
  const parent = new Map();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map(); // key -> µs
  const incl = new Map();
  const cat = new Map();
  const catIncl = new Map();
  let total = 0;
  let idle = 0;
  const key = (n) => {
    const f = n.callFrame;
    const short = f.url ? f.url.replace(/^.*\/(node_modules\/|libs\/|bench\/)/, '$1').replace(/^file:\/\//, '') : '';
    return `${f.functionName || '(anonymous)'} ${short}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // time until the next sample belongs to this one
    const n = byId.get(p.samples[i]);
    total += dt;
    if (n.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const k = key(n);
    self.set(k, (self.get(k) ?? 0) + dt);
    const c = category(n.callFrame.url, n.callFrame.functionName);
    cat.set(c, (cat.get(c) ?? 0) + dt);
    // inclusive (per function and per package), once per sample
    const seen = new Set();
    const seenCat = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const m = byId.get(id);
      if (m.callFrame.functionName === '(root)') break;
      const mk = key(m);
      if (!seen.has(mk)) {
        seen.add(mk);
        incl.set(mk, (incl.get(mk) ?? 0) + dt);
      }
      const mc = category(m.callFrame.url, m.callFrame.functionName);
      if (!seenCat.has(mc)) {
        seenCat.add(mc);
        catIncl.set(mc, (catIncl.get(mc) ?? 0) + dt);
      }
    }
  }
  return { file, total, idle, busy: total - idle, self, incl, cat, catIncl };
}

const ms = (us) => (us / 1000).toFixed(0);
const pct = (a, b) => ((100 * a) / b).toFixed(1);

// Run as a script only (alloc-summary.mjs imports `category`).
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const profiles = files.map(load);
  const perN = args.includes('--per') ? String(args[args.indexOf('--per') + 1]).split(',') : [];
  for (const [i, p] of profiles.entries()) {
    const scale = perN[i] ? 1e5 / Number(perN[i]) : 0;
    console.log(`\n### ${p.file}\n`);
    console.log(`wall ${ms(p.total)} ms, busy (not idle) ${ms(p.busy)} ms${scale ? `, ${perN[i]} messages → busy ${ms(p.busy * scale)} ms per 100k msgs` : ''}\n`);
    console.log(`| package | self ms | self % of busy | inclusive ms | inclusive % |${scale ? ' self ms / 100k msgs |' : ''}`);
    console.log(`|---|---|---|---|---|${scale ? '---|' : ''}`);
    for (const [c, t] of [...p.cat].sort((a, b) => b[1] - a[1])) {
      console.log(`| ${c} | ${ms(t)} | ${pct(t, p.busy)} | ${ms(p.catIncl.get(c) ?? 0)} | ${pct(p.catIncl.get(c) ?? 0, p.busy)} |${scale ? ` ${ms(t * scale)} |` : ''}`);
    }
    console.log(`\nTop ${TOP} functions by self time:\n`);
    console.log('| self ms | % | function (file:line) |');
    console.log('|---|---|---|');
    for (const [k, t] of [...p.self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${ms(t)} | ${pct(t, p.busy)} | \`${k}\` |`);
    const lib = [...p.incl].filter(([k]) => k.includes('libs/tracing-ws') || k.includes('nestjs-cls') || k.includes('@opentelemetry') || k.includes('pino') || k.includes('prom-client'));
    console.log(`\nInclusive time of library / cls / otel / pino / prom-client functions (top ${TOP}):\n`);
    console.log('| incl ms | % | function (file:line) |');
    console.log('|---|---|---|');
    for (const [k, t] of lib.sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${ms(t)} | ${pct(t, p.busy)} | \`${k}\` |`);
  }

  if (profiles.length === 2) {
    const [a, b] = profiles;
    const sa = perN[0] ? 1e5 / Number(perN[0]) : 1;
    const sb = perN[1] ? 1e5 / Number(perN[1]) : 1;
    const unit = perN.length === 2 ? 'ms / 100k msgs' : 'ms';
    console.log(`\n### Difference by package (${unit}): ${b.file} minus ${a.file}\n`);
    console.log(`| package | A self | B self | B − A |`);
    console.log('|---|---|---|---|');
    const cats = new Set([...a.cat.keys(), ...b.cat.keys()]);
    const rows = [...cats].map((c) => [c, (a.cat.get(c) ?? 0) * sa, (b.cat.get(c) ?? 0) * sb]).sort((x, y) => y[2] - y[1] - (x[2] - x[1]));
    for (const [c, x, y] of rows) console.log(`| ${c} | ${ms(x)} | ${ms(y)} | ${ms(y - x)} |`);
    console.log(`| **busy total** | ${ms(a.busy * sa)} | ${ms(b.busy * sb)} | ${ms(b.busy * sb - a.busy * sa)} |`);
  }
}
