// Do three runs reproduce? Reads the --json files of bench/run.mjs and prints, for every
// per-round ratio the runs share, each run's median, the median of those medians, the
// spread (largest deviation of a run's median from that median, in %) and whether it is
// within ±10 % (--tolerance 10); then each scenario's median of the figure the ratios are
// made of (rate: µs per message; broadcast: deliveries per server CPU second) per run.
//
//   sh scripts/node.sh bench/compare-runs.mjs run1.json run2.json run3.json [--tolerance 10] [--markdown]

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const PARTS = ['rate', 'handshake', 'connections', 'saturation'];

export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One row per ratio present in every run: [{part, key, name, values, median, spreadPct, within, verdicts}]. */
export function compareRuns(runs, tolerancePct = 10) {
  const rows = [];
  for (const part of PARTS) {
    const present = runs.map((r) => r[part]?.ratios ?? {});
    const keys = Object.keys(present[0] ?? {}).filter((k) => present.every((p) => p[k] && Number.isFinite(p[k].median)));
    for (const key of keys) {
      const values = present.map((p) => p[key].median);
      const m = median(values);
      const spreadPct = m ? Math.max(...values.map((v) => Math.abs(v / m - 1))) * 100 : NaN;
      rows.push({ part, key, name: present[0][key].name, values, median: m, spreadPct, within: spreadPct <= tolerancePct, verdicts: present.map((p) => p[key].verdict).filter(Boolean) });
    }
  }
  return rows;
}

/** Per-scenario medians of one figure in every run (the runs' summaries): [{part, key, scenario, values, median, spreadPct}]. */
export function compareScenarios(runs, part, key) {
  const rows = [];
  const scenarios = Object.keys(runs[0]?.[part]?.summary ?? {});
  for (const s of scenarios) {
    const values = runs.map((r) => r[part]?.summary?.[s]?.[key]);
    if (!values.every((v) => Number.isFinite(v))) continue;
    const m = median(values);
    rows.push({ part, key, scenario: s, values, median: m, spreadPct: m ? Math.max(...values.map((v) => Math.abs(v / m - 1))) * 100 : NaN });
  }
  return rows;
}

function main(argv) {
  const files = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--tolerance');
  const t = argv.indexOf('--tolerance');
  const tolerance = t >= 0 ? Number(argv[t + 1]) : 10;
  if (files.length < 2) {
    console.error('usage: compare-runs.mjs a.json b.json [c.json …] [--tolerance 10]');
    process.exit(2);
  }
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const rows = compareRuns(runs, tolerance);
  console.log(`Runs: ${runs.map((r, i) => `${i + 1}. ${files[i]} (seed ${r.seed}, ${r.startedAt}, loadavg ${r.loadavgStart?.[0]?.toFixed(2)} → ${r.loadavgEnd?.[0]?.toFixed(2)})`).join('; ')}\n`);
  console.log(`| part | ratio | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | median | spread | within ±${tolerance} % | target |`);
  console.log(`|---|---|${runs.map(() => '---|').join('')}---|---|---|---|`);
  for (const r of rows) {
    const v = r.verdicts.length ? `${r.verdicts.filter((x) => x === 'MET').length} of ${r.verdicts.length} runs MET` : '';
    console.log(`| ${r.part} | ${r.key} ${r.name} | ${r.values.map((x) => x.toFixed(3)).join(' | ')} | ${r.median.toFixed(3)} | ${r.spreadPct.toFixed(1)} % | ${r.within ? 'yes' : 'NO'} | ${v} |`);
  }
  // The figure the ratios are made of, per scenario (broadcast: deliveries per server CPU second).
  const bcast = runs[0].options?.workload === 'broadcast';
  const figures = [...compareScenarios(runs, 'rate', bcast ? 'deliveriesPerCpuS' : 'cpuUsPerMsg'), ...(bcast ? compareScenarios(runs, 'saturation', 'deliveriesPerCpuS') : [])];
  if (figures.length) {
    console.log(`\n| part | scenario | figure | ${runs.map((_, i) => `run ${i + 1}`).join(' | ')} | median | spread |`);
    console.log(`|---|---|---|${runs.map(() => '---|').join('')}---|---|`);
    for (const f of figures) console.log(`| ${f.part} | s${f.scenario} | ${f.key} | ${f.values.map((x) => x.toFixed(x >= 100 ? 0 : 2)).join(' | ')} | ${f.median.toFixed(f.median >= 100 ? 0 : 2)} | ${f.spreadPct.toFixed(1)} % |`);
  }
  const out = rows.filter((r) => !r.within);
  console.log(`\n${rows.length - out.length} of ${rows.length} ratios within ±${tolerance} %${out.length ? `; outside: ${out.map((r) => `${r.part} ${r.key}`).join(', ')}` : ''}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2));
