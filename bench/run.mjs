// npm run bench -- [options]        (or: sh scripts/node.sh bench/run.mjs [options] after npm run build)
//
// Throughput mode (default): for every round, every scenario in turn (order rotated per
// round) gets a fresh server process; a closed-loop load (connections × inflight) runs for
// warmup + duration; then a latency phase runs each scenario open-loop at
// --latency-load × scenario 2's median saturation rate. Prints medians and ratios.
// Connections mode (--mode connections): opens --conns idle sockets against scenarios 2 and
// 3, reports handshake rate, RSS per connection and heartbeat CPU.
//
// Options (defaults in brackets):
//   --scenarios 1,2,3,4,5   --rounds 3   --duration 5 (s)   --warmup 2 (s)
//   --connections 100   --inflight 10   --payload 64 (bytes)   --workers 1
//   --workload echo|broadcast [echo]   --group 10 (broadcast group size)
//   --latency-load 0.5 (0 skips the latency phase)   --latency-scenarios (= --scenarios)
//   --mode throughput|connections   --conns 15000   --hold 10 (s)   --heartbeat-ms 1000
//   --profile (V8 CPU profile of the server over each measured window only, via the
//              inspector: bench/.build/profiles/s<N>-<mode>-<ts>.cpuprofile; the message
//              count of the window is printed, for profile-summary.mjs --per)
//   --cpu-prof (whole server process under node --cpu-prof, startup included)
//   --json FILE (write all raw results)
//   --max-foreign 0.1 (cores used by other processes in a window above which it is repeated)
//   --retries 2

import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const BUILD = join(here, '.build');

export const SCENARIOS = {
  1: 'raw ws',
  2: 'bare NestJS (WsAdapter)',
  3: 'TracingWsModule defaults (100% sampled, msg log off)',
  4: 'worst: 100% sampled + info msg log to file',
  5: 'TracingWsModule, 10% sampling',
  6: 'as 3, on the --baseline-lib build (before/after a change)',
};

// ------------------------------------------------------------------ options
function parseArgs(argv) {
  const o = {
    scenarios: [1, 2, 3, 4, 5],
    rounds: 3,
    duration: 5,
    warmup: 2,
    connections: 100,
    inflight: 10,
    payload: 64,
    workers: 1,
    workload: 'echo',
    group: 10,
    latencyLoad: 0.5,
    latencyScenarios: undefined,
    mode: 'throughput',
    conns: 15000,
    hold: 10,
    heartbeatMs: 1000,
    profile: false,
    cpuProf: false,
    json: undefined,
    maxForeign: 0.1, // cores used by other processes above which a run is repeated
    retries: 2,
    baselineLib: undefined, // index.js of another build of the library, for scenario 6
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_m, c) => c.toUpperCase());
    if (!(key in o) || !a.startsWith('--')) throw new Error(`unknown option ${a}`);
    if (typeof o[key] === 'boolean') {
      o[key] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (key === 'scenarios' || key === 'latencyScenarios') o[key] = v.split(',').map(Number);
    else if (typeof o[key] === 'number') o[key] = Number(v);
    else o[key] = v;
  }
  for (const s of [...o.scenarios, ...(o.latencyScenarios ?? [])]) if (!SCENARIOS[s]) throw new Error(`no scenario ${s}`);
  if ([...o.scenarios, ...(o.latencyScenarios ?? [])].includes(6) && !o.baselineLib) throw new Error('scenario 6 needs --baseline-lib <path to index.js of another build>');
  o.latencyScenarios ??= o.scenarios;
  // Bounds: nothing unbounded runs on this machine.
  if (!(o.duration > 0 && o.duration <= 120)) throw new Error('--duration must be in (0, 120] s');
  if (!(o.rounds >= 1 && o.rounds <= 10)) throw new Error('--rounds must be 1..10');
  if (!(o.connections >= 1 && o.connections <= 5000)) throw new Error('--connections must be 1..5000');
  if (!(o.inflight >= 1 && o.inflight <= 1000)) throw new Error('--inflight must be 1..1000');
  if (!(o.conns >= 1 && o.conns <= 30000)) throw new Error('--conns must be 1..30000');
  if (!(o.hold > 0 && o.hold <= 120)) throw new Error('--hold must be in (0, 120] s');
  return o;
}

// ------------------------------------------------------------------ server process
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServer(scenario, { profile = false, tag = '' } = {}) {
  const execArgv = ['--expose-gc', '--max-old-space-size=4096'];
  if (profile === 'cpu-prof') {
    const dir = join(BUILD, 'profiles');
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `s${scenario}${tag}-${Date.now()}.cpuprofile`);
  }
  const child = fork(join(here, 'server.mjs'), [String(scenario)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map();
  let ready;
  const readyP = new Promise((resolve, reject) => {
    ready = resolve;
    child.once('exit', (code) => reject(new Error(`server ${scenario} exited (${code}) before ready`)));
    setTimeout(() => reject(new Error(`server ${scenario} not ready in 30 s`)), 30_000).unref();
  });
  child.on('message', (m) => {
    if (m.type === 'ready') ready(m);
    else if (m.type === 'reply') {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const call = (cmd, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ cmd, id, ...extra });
      setTimeout(() => pending.has(id) && (pending.delete(id), reject(new Error(`server ${scenario}: ${cmd} timed out`))), 15_000).unref();
    });
  const { port } = await readyP;
  const exited = new Promise((r) => child.once('exit', r));
  return {
    port,
    pid: child.pid,
    url: `ws://127.0.0.1:${port}/ws`,
    call,
    async stop() {
      try {
        await call('exit');
      } catch {}
      await Promise.race([exited, sleep(8000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

// ------------------------------------------------------------------ load workers
function startWorkers(count, base) {
  const per = Math.floor(base.connections / count);
  const workers = [];
  for (let w = 0; w < count; w++) {
    const connections = w === count - 1 ? base.connections - per * (count - 1) : per;
    const worker = new Worker(join(here, 'loadgen.mjs'), {
      workerData: { ...base, connections, firstIndex: w * per, rate: base.rate ? (base.rate * connections) / base.connections : 0 },
    });
    const inbox = [];
    const waiters = [];
    worker.on('message', (m) => (waiters.length ? waiters.shift()(m) : inbox.push(m)));
    worker.on('error', (e) => console.error('load worker error', e));
    workers.push({
      worker,
      next: (timeoutMs = 120_000) =>
        new Promise((resolve, reject) => {
          if (inbox.length) return resolve(inbox.shift());
          waiters.push(resolve);
          setTimeout(() => reject(new Error('load worker timed out')), timeoutMs).unref();
        }),
    });
  }
  return {
    async connected() {
      return Promise.all(workers.map((w) => w.next()));
    },
    send(msg) {
      for (const w of workers) w.worker.postMessage(msg);
    },
    async report() {
      this.send('report');
      return mergeReports(await Promise.all(workers.map((w) => w.next())));
    },
    async stop() {
      this.send('stop');
      await Promise.race([Promise.all(workers.map((w) => new Promise((r) => w.worker.once('exit', r)))), sleep(5000)]);
      for (const w of workers) await w.worker.terminate();
    },
  };
}

function mergeReports(reports) {
  const out = { sent: 0, replies: 0, deliveries: 0, errors: 0, closedEarly: 0, opened: 0, failedOpen: 0, outstanding: 0, windowMs: 0 };
  let hist;
  for (const r of reports) {
    for (const k of Object.keys(out)) out[k] = k === 'windowMs' ? Math.max(out[k], r[k]) : out[k] + r[k];
    const h = new Uint32Array(r.hist.buffer ?? r.hist);
    if (!hist) hist = new Uint32Array(h.length);
    for (let i = 0; i < h.length; i++) hist[i] += h[i];
  }
  out.clientElu = reports.reduce((n, r) => n + r.clientElu, 0);
  out.p50 = percentile(hist, 0.5);
  out.p99 = percentile(hist, 0.99);
  out.p999 = percentile(hist, 0.999);
  return out;
}

const FINE = 100_000;
function percentile(hist, q) {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i];
  if (total === 0) return NaN;
  const want = Math.ceil(total * q);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= want) return i < FINE ? i / 1000 : (FINE + (i - FINE) * 1000) / 1000;
  }
  return NaN;
}

// ------------------------------------------------------------------ foreign load
// This machine is shared (other sessions run jest/tsc on the same 2 cores). CPU time
// of every process outside the bench during a window is summed from /proc/<pid>/stat,
// so a disturbed run can be flagged and repeated. Processes that start and end inside
// the window are missed: it is a lower bound.
const TICK = 100; // USER_HZ
function processTicks(exclude) {
  const out = new Map();
  let pids = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (exclude.has(Number(pid))) continue;
    try {
      const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(pid, Number(f[11]) + Number(f[12])); // utime + stime
    } catch {}
  }
  return out;
}
function foreignCores(before, after, seconds) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / TICK / seconds;
}

// ------------------------------------------------------------------ one measured run
async function measure(o, scenario, load) {
  for (let attempt = 0; ; attempt++) {
    const r = await measureOnce(o, scenario, load);
    r.attempts = attempt + 1;
    if (!(r.foreignCores > o.maxForeign) || attempt >= o.retries) return r;
    console.log(`  (s${scenario}: other processes used ${r.foreignCores.toFixed(2)} cores during the window; repeating)`);
    await sleep(2000);
  }
}

async function measureOnce(o, scenario, load) {
  const server = await startServer(scenario, { profile: o.cpuProf ? 'cpu-prof' : false });
  const gen = startWorkers(o.workers, {
    url: server.url,
    connections: o.connections,
    inflight: o.inflight,
    payloadBytes: o.payload,
    workload: o.workload,
    groupSize: o.group,
    ...load,
    deadlineMs: (o.warmup + o.duration + 120) * 1000,
  });
  try {
    const conn = await gen.connected();
    const failed = conn.reduce((n, c) => n + c.failedOpen + (c.opened < 1 ? 1 : 0), 0);
    if (failed) throw new Error(`scenario ${scenario}: ${failed} connections failed to open`);
    gen.send('go');
    await sleep(o.warmup * 1000);
    gen.send('reset');
    const exclude = new Set([process.pid, server.pid]);
    const f0 = processTicks(exclude);
    const profileFile = o.profile ? join(BUILD, 'profiles', `s${scenario}-${load.mode}-${Date.now()}.cpuprofile`) : undefined;
    if (profileFile) mkdirSync(dirname(profileFile), { recursive: true });
    const s0 = await server.call(profileFile ? 'profile-start' : 'stats');
    await sleep(o.duration * 1000);
    const s1 = await server.call(profileFile ? 'profile-stop' : 'stats', { file: profileFile });
    const f1 = processTicks(exclude);
    const r = await gen.report();
    const seconds = r.windowMs / 1000;
    const cpuS = (s1.cpuUser + s1.cpuSystem - s0.cpuUser - s0.cpuSystem) / 1e6;
    const serverSeconds = (s1.now - s0.now) / 1000;
    return {
      scenario,
      msgsPerSec: r.replies / seconds,
      deliveriesPerSec: r.deliveries / seconds,
      sentPerSec: r.sent / seconds,
      p50: r.p50,
      p99: r.p99,
      p999: r.p999,
      cpuPer100k: r.replies ? (cpuS / r.replies) * 1e5 : NaN,
      cpuUtil: cpuS / serverSeconds,
      rssMB: s1.rss / 2 ** 20,
      errors: r.errors,
      closedEarly: r.closedEarly,
      spansExported: s1.spansExported,
      clientElu: r.clientElu / o.workers,
      foreignCores: foreignCores(f0, f1, serverSeconds),
      replies: r.replies,
      profileFile,
    };
  } finally {
    await gen.stop();
    await server.stop();
  }
}

// ------------------------------------------------------------------ stats helpers
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b ? (a / b).toFixed(2) : '–');

function summarize(runs, keys) {
  const by = {};
  for (const r of runs) (by[r.scenario] ??= []).push(r);
  const out = {};
  for (const [s, rs] of Object.entries(by)) {
    out[s] = { n: rs.length };
    for (const k of keys) {
      const xs = rs.map((r) => r[k]);
      out[s][k] = median(xs);
      out[s][`${k}Min`] = Math.min(...xs);
      out[s][`${k}Max`] = Math.max(...xs);
    }
  }
  return out;
}

function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const l = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/);
    if (l) model = l[1];
  } catch {}
  return { model, cores: cpus().length, memGB: (totalmem() / 2 ** 30).toFixed(1), node: process.version };
}

// ------------------------------------------------------------------ throughput mode
async function throughputMode(o) {
  const m = machine();
  const started = Date.now();
  console.log(`# tracing-ws bench: ${o.workload}, ${o.connections} conns × ${o.inflight} in flight, ${o.payload} B payload, ${o.duration}+${o.warmup} s × ${o.rounds} rounds`);
  console.log(`# ${m.model}, ${m.cores} cores, ${m.memGB} GiB, node ${m.node}, load workers: ${o.workers}`);
  const runs = [];
  for (let round = 0; round < o.rounds; round++) {
    const order = o.scenarios.map((_, i) => o.scenarios[(i + round) % o.scenarios.length]);
    for (const s of order) {
      const r = await measure(o, s, { mode: 'closed' });
      r.round = round + 1;
      runs.push(r);
      console.log(`  round ${round + 1} s${s} ${fmt(r.msgsPerSec)} msg/s  p99 ${fmt(r.p99, 2)} ms  cpu ${fmt(r.cpuUtil * 100)}%  rss ${fmt(r.rssMB)} MB  client ELU ${fmt(r.clientElu, 2)}  foreign ${fmt(r.foreignCores, 2)} cores${r.profileFile ? `  profile ${r.profileFile} (${r.replies} msgs)` : ''}${r.errors ? `  errors ${r.errors}` : ''}`);
    }
  }
  const T = summarize(runs, ['msgsPerSec', 'deliveriesPerSec', 'p50', 'p99', 'p999', 'cpuPer100k', 'cpuUtil', 'rssMB']);
  const base2 = T[2]?.msgsPerSec;
  const base1 = T[1]?.msgsPerSec;

  const lines = [];
  lines.push(`\n## Throughput (closed loop, ${o.workload}, ${o.connections} connections × ${o.inflight} in flight, ${o.payload} B, median of ${o.rounds} × ${o.duration} s)\n`);
  lines.push('| # | scenario | msgs/s (min–max) | p50 ms | p99 ms | p99.9 ms | server CPU s / 100k msgs | server CPU % | RSS MB | × s2 | × s1 |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of o.scenarios) {
    const t = T[s];
    lines.push(
      `| ${s} | ${SCENARIOS[s]} | ${fmt(t.msgsPerSec)} (${fmt(t.msgsPerSecMin)}–${fmt(t.msgsPerSecMax)}) | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(t.p999, 2)} | ${fmt(t.cpuPer100k, 2)} | ${fmt(t.cpuUtil * 100)} | ${fmt(t.rssMB)} | ${ratio(t.msgsPerSec, base2)} | ${ratio(t.msgsPerSec, base1)} |`,
    );
  }
  if (o.workload === 'broadcast') {
    lines.push('\nBroadcast deliveries/s (frames received by all clients):');
    for (const s of o.scenarios) lines.push(`- s${s}: ${fmt(T[s].deliveriesPerSec)} (× s2 ${ratio(T[s].deliveriesPerSec, T[2]?.deliveriesPerSec)})`);
  }
  // Per-round ratios to s2 (same round = closest in time), their median: more stable.
  if (base2) {
    lines.push('\nPer-round ratio to scenario 2 (median of rounds, min–max):');
    for (const s of o.scenarios) {
      if (s === 2) continue;
      const rs = [];
      for (let round = 1; round <= o.rounds; round++) {
        const a = runs.find((r) => r.round === round && r.scenario === s);
        const b = runs.find((r) => r.round === round && r.scenario === 2);
        if (a && b) rs.push(a.msgsPerSec / b.msgsPerSec);
      }
      const target = { 3: 0.9, 4: 0.75, 5: 0.95 }[s];
      lines.push(`- s${s}: ${median(rs).toFixed(3)} (${Math.min(...rs).toFixed(3)}–${Math.max(...rs).toFixed(3)})${target ? ` — target ≥ ${target}: ${median(rs) >= target ? 'MET' : 'NOT MET'}` : ''}`);
    }
  }
  console.log(lines.join('\n'));

  // ---- latency at a fixed fraction of scenario 2's saturation rate
  let latency;
  if (o.latencyLoad > 0 && base2) {
    const rate = Math.round(base2 * o.latencyLoad);
    const lruns = [];
    console.log(`\n# latency phase: open loop at ${fmt(rate)} msg/s (${o.latencyLoad} × s2 saturation)`);
    for (let round = 0; round < o.rounds; round++) {
      const order = o.latencyScenarios.map((_, i) => o.latencyScenarios[(i + round) % o.latencyScenarios.length]);
      for (const s of order) {
        const r = await measure(o, s, { mode: 'open', rate });
        r.round = round + 1;
        lruns.push(r);
        console.log(`  round ${round + 1} s${s} ${fmt(r.msgsPerSec)} msg/s  p50 ${fmt(r.p50, 3)}  p99 ${fmt(r.p99, 3)}  p99.9 ${fmt(r.p999, 3)} ms  cpu ${fmt(r.cpuUtil * 100)}%  foreign ${fmt(r.foreignCores, 2)} cores${r.profileFile ? `  profile ${r.profileFile} (${r.replies} msgs)` : ''}`);
      }
    }
    latency = summarize(lruns, ['msgsPerSec', 'p50', 'p99', 'p999', 'cpuUtil', 'cpuPer100k']);
    const L = [];
    L.push(`\n## Latency at ${o.latencyLoad} × scenario 2 saturation (open loop, ${fmt(rate)} msgs/s, median of ${o.rounds} × ${o.duration} s)\n`);
    L.push('| # | scenario | achieved msgs/s | p50 ms | p99 ms | p99.9 ms | added p99 vs s2 (ms) | server CPU % |');
    L.push('|---|---|---|---|---|---|---|---|');
    for (const s of o.latencyScenarios) {
      const t = latency[s];
      const added = latency[2] ? t.p99 - latency[2].p99 : NaN;
      L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t.msgsPerSec)} | ${fmt(t.p50, 3)} | ${fmt(t.p99, 3)} | ${fmt(t.p999, 3)} | ${s === 2 ? '—' : `${fmt(added, 3)}${s >= 3 ? (added <= 0.2 ? ' (≤ 0.2 MET)' : ' (> 0.2 NOT MET)') : ''}`} | ${fmt(t.cpuUtil * 100)} |`);
    }
    console.log(L.join('\n'));
    runs.push(...lruns.map((r) => ({ ...r, phase: 'latency', rate })));
  }
  console.log(`\n# total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, machine: m, runs, throughput: T, latency }, null, 2));
}

// ------------------------------------------------------------------ connections mode
async function connectionsMode(o) {
  const m = machine();
  const started = Date.now();
  const scenarios = o.scenarios.filter((s) => s === 2 || s === 3 || s === 1);
  const use = scenarios.length ? scenarios : [2, 3];
  // 4 source addresses × ~28k ephemeral ports each: far more than needed.
  const localAddresses = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
  console.log(`# connections mode: ${o.conns} idle sockets, heartbeat every ${o.heartbeatMs} ms for ${o.hold} s; ${m.model}, ${m.cores} cores, node ${m.node}`);
  const rows = [];
  for (let round = 0; round < Math.min(o.rounds, 3); round++) {
    for (const s of round % 2 ? [...use].reverse() : use) {
      const server = await startServer(s, { profile: o.cpuProf ? 'cpu-prof' : false, tag: '-conns' });
      const workers = Math.max(1, Math.min(4, o.workers === 1 ? 2 : o.workers));
      let gen;
      try {
        const base = await server.call('gc');
        gen = startWorkers(workers, {
          url: server.url,
          connections: o.conns,
          mode: 'idle',
          localAddresses,
          connectConcurrency: 64,
          deadlineMs: (o.hold * 3 + 300) * 1000,
        });
        const t0 = performance.now();
        const c0 = await server.call('stats');
        const conn = await gen.connected();
        const c1 = await server.call('stats');
        const handshakeS = (performance.now() - t0) / 1000;
        const opened = conn.reduce((n, c) => n + c.opened, 0);
        const failed = conn.reduce((n, c) => n + c.failedOpen, 0);
        await sleep(1000);
        const full = await server.call('gc');
        // idle CPU (no heartbeat), then with heartbeat
        const i0 = await server.call('stats');
        await sleep(Math.min(5, o.hold) * 1000);
        const i1 = await server.call('stats');
        await server.call('heartbeat', { intervalMs: o.heartbeatMs });
        const h0 = await server.call('stats');
        await sleep(o.hold * 1000);
        const h1 = await server.call('stats');
        await server.call('heartbeat', { intervalMs: 0 });
        const after = await server.call('gc');
        const rep = await gen.report();
        const cpu = (a, b) => (b.cpuUser + b.cpuSystem - a.cpuUser - a.cpuSystem) / 1e6;
        const idleCpuPerS = cpu(i0, i1) / ((i1.now - i0.now) / 1000);
        const hbCpuPerS = cpu(h0, h1) / ((h1.now - h0.now) / 1000);
        const rounds = h1.heartbeatRounds - h0.heartbeatRounds;
        const row = {
          scenario: s,
          opened,
          failed,
          held: after.clients,
          closedEarly: rep.closedEarly,
          terminated: after.heartbeatTerminated,
          handshakesPerSec: opened / handshakeS,
          handshakeCpuMsPer1k: (cpu(c0, c1) / opened) * 1e6,
          rssBaseMB: base.rss / 2 ** 20,
          rssFullMB: full.rss / 2 ** 20,
          rssPerConnKB: (full.rss - base.rss) / opened / 1024,
          heapPerConnKB: (full.heapUsed - base.heapUsed) / opened / 1024,
          idleCpuPct: idleCpuPerS * 100,
          hbCpuPct: hbCpuPerS * 100,
          hbCpuMsPerRound: rounds ? ((cpu(h0, h1) - idleCpuPerS * ((h1.now - h0.now) / 1000)) / rounds) * 1000 : NaN,
        };
        rows.push(row);
        console.log(`  round ${round + 1} s${s}: ${opened} open (${failed} refused) in ${handshakeS.toFixed(1)} s = ${fmt(row.handshakesPerSec)}/s, RSS ${fmt(row.rssBaseMB)} → ${fmt(row.rssFullMB)} MB = ${fmt(row.rssPerConnKB, 1)} KB/conn, heap ${fmt(row.heapPerConnKB, 1)} KB/conn, idle CPU ${fmt(row.idleCpuPct, 1)}%, heartbeat CPU ${fmt(row.hbCpuPct, 1)}% (${fmt(row.hbCpuMsPerRound, 1)} ms per ping round), held ${row.held}`);
      } finally {
        await gen?.stop();
        await server.stop();
      }
    }
  }
  const S = summarize(rows, ['handshakesPerSec', 'handshakeCpuMsPer1k', 'rssPerConnKB', 'heapPerConnKB', 'rssFullMB', 'idleCpuPct', 'hbCpuPct', 'hbCpuMsPerRound', 'held']);
  const L = [];
  L.push(`\n## Connections (${o.conns} idle sockets from ${localAddresses.length} loopback source addresses, heartbeat ${o.heartbeatMs} ms held ${o.hold} s, median of ${Math.min(o.rounds, 3)} rounds)\n`);
  L.push('| # | scenario | held at end | handshakes/s | handshake CPU ms / 1k | RSS MB (all open) | RSS KB / conn | heap KB / conn | idle CPU % | heartbeat CPU % | CPU ms / ping round |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of use) {
    const t = S[s];
    L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t.held)} | ${fmt(t.handshakesPerSec)} | ${fmt(t.handshakeCpuMsPer1k, 1)} | ${fmt(t.rssFullMB)} | ${fmt(t.rssPerConnKB, 1)} | ${fmt(t.heapPerConnKB, 1)} | ${fmt(t.idleCpuPct, 1)} | ${fmt(t.hbCpuPct, 1)} | ${fmt(t.hbCpuMsPerRound, 1)} |`);
  }
  if (S[2] && S[3]) L.push(`\nRSS per connection, module / bare: ${ratio(S[3].rssPerConnKB, S[2].rssPerConnKB)} (target ≤ 1.5: ${S[3].rssPerConnKB / S[2].rssPerConnKB <= 1.5 ? 'MET' : 'NOT MET'}); handshake rate module / bare: ${ratio(S[3].handshakesPerSec, S[2].handshakesPerSec)}`);
  console.log(L.join('\n'));
  console.log(`\n# total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ options: o, machine: m, rows, summary: S }, null, 2));
}

// ------------------------------------------------------------------ main
const o = parseArgs(process.argv.slice(2));
// Scenario 6's server process finds the other build through its environment.
if (o.baselineLib) process.env.BENCH_BASELINE_LIB = resolvePath(o.baselineLib);
mkdirSync(BUILD, { recursive: true });
const hardStop = setTimeout(() => {
  console.error('bench: hard time limit (30 min) reached');
  process.exit(5);
}, 30 * 60_000);
hardStop.unref();
try {
  if (o.mode === 'connections') await connectionsMode(o);
  else if (o.mode === 'throughput') await throughputMode(o);
  else throw new Error(`unknown --mode ${o.mode}`);
} finally {
  rmSync('/tmp/tracing-ws-bench-s4.log', { force: true });
}
process.exit(0);
