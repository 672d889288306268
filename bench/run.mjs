// npm run bench -- [options]        (or: sh scripts/node.sh bench/run.mjs [options] after npm run build)
//
// Modes (--mode, default all = rate, then handshake, then saturation):
//   rate        The headline. Every scenario is driven open-loop at the same fixed rate
//               (--rate msgs/s, round-robin over --connections sockets); server CPU time per
//               message (µs) is process.cpuUsage() of the server over the measured window
//               (after --warmup s and a forced GC), divided by the replies in it. A scenario
//               whose achieved rate falls short of --rate (or builds a backlog) is flagged.
//               With --workload broadcast, --rate is publishes/s in total (round-robin over the
//               connections, each publish carries its send time); every member of the sender's
//               group (--group) gets a copy: server CPU µs per delivery, deliveries per server CPU
//               second, achieved publish and delivery rates, publish-to-delivery latency p50/p99
//               (every copy, timestamp in the payload). Behind as for echo, or deliveries short of
//               publishes × group size by more than 3 % (and one publish's copies). Default rate: 20,000 deliveries/s, i.e.
//               20000 / group publishes/s (group 10: 2,000/s; a room of 1,000: 20/s).
//   saturation  Second view: closed loop (connections × inflight), msgs/s and CPU per message
//               at saturation (moves with write batching and with the load generator).
//   handshake   --hs-conns sockets opened (64 at a time) per scenario and round from a fresh
//               loopback source address: handshake latency p50/p99, handshakes/s, server CPU
//               per handshake, then all closed by the client: server CPU per close.
//   connections As handshake with --conns idle sockets, then held --hold s: RSS per
//               connection, idle and heartbeat CPU.
// Every round runs every scenario once, in an order shuffled per round with a seeded PRNG
// (--seed; printed); each measurement gets a fresh server process. Ratios (against raw ws,
// bare NestJS, bare socket.io) are taken per round, summarised as median (min–max).
// With taskset available, this process (and its load worker threads) runs on core 0 and
// every server process on core 1 (--pin off: both float; a warning says so).
// Reproducing the named ratios (bench/RESULTS.md, round five): one window's CPU per message moves
// ±10-20 % with the host, so the medians need rounds; 20 rounds give three runs within ±10 % of
// each other far more often than 5 or 7 do. Three times:
//   --scenarios 1,2,3,4,5 --rounds 20 --hs-scenarios 1,2,3 --hs-rounds 20 --nice -10
//
// Options (defaults in brackets):
//   --mode all|rate|saturation|handshake|connections [all]   --scenarios 1,2,3,4,5,7,8,13,14
//   --rounds 7 (1..30)   --duration 4 (s)   --warmup 2 (s)   --rate 10000 (msgs/s)   --seed N
//   --connections 100   --inflight 10 (saturation)   --payload 64 (bytes)
//   --sat-rounds 2   --sat-duration 3 (s)   (saturation inside --mode all)
//   --hs-conns 2000   --hs-scenarios 1,2,3,7,8   --hs-rounds 5   (handshake inside --mode all)
//   --workload echo|broadcast [echo]   --group 10 (broadcast, ws scenarios only; connection i is
//              in group floor(i / group), the last group may be smaller; with --mode rate the
//              default --rate is 20000 / min(group, connections) publishes/s)
//   e.g. a room of 1,000: --mode rate --workload broadcast --group 1000 --connections 1000
//   --conns 15000   --hold 10 (s)   --heartbeat-ms 1000   (connections mode)
//   --pin auto|off   --workers 1
//   --nice N [0] run this process and every server at nice N, and their autogroup too when the
//              kernel groups sessions (e.g. -10 on a machine shared with other sessions: the
//              bench then loses its cores to them less often; restored at exit; in the JSON)
//   --profile (V8 CPU profile of the server over each measured window only, via the
//              inspector: bench/.build/profiles/s<N>-<mode>-<ts>.cpuprofile; the message
//              count of the window is printed, for profile-summary.mjs --per)
//   --alloc-profile (as --profile, V8's sampling heap profiler instead: every allocation of the
//              window (rate) or opening phase (handshake), collected or not, .heapprofile;
//              bench/alloc-summary.mjs prints bytes per message by package and function)
//   BENCH_SERVER_FLAGS='--trace-gc' (environment) adds node/V8 flags to every server process
//   --cpu-prof (whole server process under node --cpu-prof, startup included)
//   --json FILE (all raw results, per-round ratios and load averages; bench/compare-runs.mjs
//              compares three of them)
//   --max-foreign 0.25 (cores used by other processes in a window above which it is repeated)
//   --retries 1   --baseline-lib FILE (scenario 6)

import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
const BUILD = join(here, '.build');

export const SCENARIOS = {
  1: 'raw ws',
  2: 'bare NestJS (WsAdapter)',
  3: 'module defaults (100% sampled, msg log off)',
  4: 'worst: 100% sampled + info msg log to file',
  5: 'module, 10% sampling',
  6: 'as 3, on the --baseline-lib build',
  7: 'bare NestJS on socket.io (IoAdapter)',
  8: 'module on socket.io (TracingIoAdapter, defaults)',
  9: 'as 3, metrics.exemplars off',
  10: 'as 3, admin surface mounted (watch-capable, nobody watching)',
  11: 'as 3, a live trace open on a user no client is',
  12: 'as 3, broadcast.history in memory (room history on)',
  13: 'as 3, BatchSpanProcessor maxExportBatchSize 128 (SDK default 512)',
  14: 'bare NestJS again, a second process (A/A control)',
  15: 'as 8, on the --baseline-lib build',
};
const IO = new Set([7, 8, 15]);
export const transportOf = (s) => (IO.has(s) ? 'io' : 'ws');

// Ratios taken per round (numerator / denominator scenario) and, where the issues set one, the target.
// CPU ratios: server CPU per message; "≤" targets. Throughput ratios (saturation): "≥" targets.
export const CPU_RATIOS = [
  { a: 2, b: 1, name: 'bare NestJS / raw ws' },
  { a: 3, b: 1, name: 'module defaults / raw ws', max: 1.3 },
  { a: 5, b: 1, name: '10 % sampling / raw ws', max: 1.15 },
  { a: 4, b: 1, name: 'worst / raw ws', max: 2 },
  { a: 3, b: 2, name: 'module defaults / bare NestJS' },
  { a: 4, b: 2, name: 'worst / bare NestJS' },
  { a: 5, b: 2, name: '10 % sampling / bare NestJS' },
  { a: 3, b: 9, name: 'exemplars on / off (s3 / s9)' },
  { a: 10, b: 3, name: 'admin watch-capable / off (s10 / s3)' },
  { a: 11, b: 3, name: 'a live trace open elsewhere / admin off (s11 / s3)' },
  { a: 7, b: 2, name: 'bare socket.io / bare NestJS ws' },
  { a: 8, b: 7, name: 'module on socket.io / bare socket.io', max: 1 / 0.9 },
  { a: 6, b: 3, name: 'baseline build / this build' },
  { a: 15, b: 8, name: 'socket.io: baseline build / this build (s15 / s8)' },
  { a: 13, b: 3, name: 'span batches of 128 / of 512 (s13 / s3)' },
  { a: 13, b: 1, name: 'span batches of 128 / raw ws (s13 / s1)' },
  // The same server in two processes: what the method cannot resolve.
  { a: 14, b: 2, name: 'A/A: bare NestJS / bare NestJS, two processes (s14 / s2)' },
];
export const SAT_RATIOS = [
  { a: 1, b: 2, name: 'raw ws / bare NestJS' },
  { a: 3, b: 2, name: 'module defaults / bare NestJS' },
  { a: 4, b: 2, name: 'worst / bare NestJS', min: 0.75 },
  { a: 5, b: 2, name: '10 % sampling / bare NestJS' },
  { a: 8, b: 7, name: 'module on socket.io / bare socket.io', min: 0.9 },
  { a: 12, b: 3, name: 'room history in memory / off (s12 / s3)', min: 0.9 },
  { a: 14, b: 2, name: 'A/A: bare NestJS / bare NestJS, two processes (s14 / s2)' },
  { a: 15, b: 8, name: 'socket.io: baseline build / this build (s15 / s8)' },
];
// Broadcast fan-out (rate and saturation): deliveries per server CPU second, per round.
export const BCAST_RATIOS = [
  { a: 3, b: 1, name: 'module / raw ws deliveries per CPU s', min: 1.5 },
  { a: 3, b: 2, name: 'module / bare NestJS deliveries per CPU s' },
  { a: 2, b: 1, name: 'bare NestJS / raw ws deliveries per CPU s' },
  { a: 12, b: 3, name: 'room history in memory / off deliveries per CPU s', min: 0.9 },
  { a: 3, b: 6, name: 'this build / the --baseline-lib build deliveries per CPU s' },
].map((d) => ({ ...d, key: 'deliveriesPerCpuS' }));
// Default fixed rate of --mode rate --workload broadcast: this many deliveries per second.
export const BCAST_DELIVERIES_PER_S = 20_000;
export const HS_RATIOS = [
  { a: 3, b: 2, key: 'cpuUsPerHandshake', name: 'handshake CPU, module / bare NestJS', max: 1.15 },
  { a: 3, b: 2, key: 'handshakesPerSec', name: 'handshake rate, module / bare NestJS', min: 0.9 },
  { a: 3, b: 2, key: 'cpuUsPerClose', name: 'close CPU, module / bare NestJS' },
  { a: 8, b: 7, key: 'cpuUsPerHandshake', name: 'handshake CPU, module / bare socket.io' },
  { a: 8, b: 7, key: 'handshakesPerSec', name: 'handshake rate, module / bare socket.io' },
  { a: 6, b: 3, key: 'cpuUsPerHandshake', name: 'handshake CPU, baseline build / this build' },
  { a: 15, b: 8, key: 'cpuUsPerHandshake', name: 'handshake CPU on socket.io, baseline build / this build' },
];

// ------------------------------------------------------------------ options
function parseArgs(argv) {
  const o = {
    mode: 'all',
    scenarios: [1, 2, 3, 4, 5, 7, 8, 13, 14],
    rounds: 7,
    duration: 4,
    warmup: 2,
    rate: 10000,
    seed: undefined,
    connections: 100,
    inflight: 10,
    payload: 64,
    satRounds: 2,
    satDuration: 3,
    hsConns: 2000,
    hsScenarios: [1, 2, 3, 7, 8],
    hsRounds: 5,
    workers: 1,
    workload: 'echo',
    group: 10,
    conns: 15000,
    hold: 10,
    heartbeatMs: 1000,
    pin: 'auto',
    nice: 0, // scheduling priority of this process and the servers (negative: needs privileges)
    profile: false,
    allocProfile: false,
    cpuProf: false,
    json: undefined,
    maxForeign: 0.25, // cores used by other processes above which a window is repeated
    retries: 1,
    baselineLib: undefined, // index.js of another build of the library, for scenario 6
  };
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_m, c) => c.toUpperCase());
    if (!(key in o) || !a.startsWith('--')) throw new Error(`unknown option ${a}`);
    given.add(key);
    if (typeof o[key] === 'boolean') {
      o[key] = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (key === 'scenarios' || key === 'hsScenarios') o[key] = v.split(',').map(Number);
    else if (typeof o[key] === 'number' || key === 'seed') o[key] = Number(v);
    else o[key] = v;
  }
  if (o.mode === 'throughput') o.mode = 'saturation';
  if (!['all', 'rate', 'saturation', 'handshake', 'connections'].includes(o.mode)) throw new Error(`unknown --mode ${o.mode}`);
  for (const s of [...o.scenarios, ...o.hsScenarios]) if (!SCENARIOS[s]) throw new Error(`no scenario ${s}`);
  if ([...o.scenarios, ...o.hsScenarios].some((s) => s === 6 || s === 15) && !o.baselineLib) throw new Error('scenarios 6 and 15 need --baseline-lib <path to index.js of another build>');
  if (o.workload === 'broadcast' && o.scenarios.some((s) => IO.has(s))) throw new Error('--workload broadcast: ws scenarios only (1-6, 9-12)');
  if (!(o.group >= 1 && o.group <= 5000)) throw new Error('--group must be 1..5000');
  if (o.workload === 'broadcast' && !given.has('rate')) o.rate = Math.max(1, Math.round(BCAST_DELIVERIES_PER_S / Math.min(o.group, o.connections)));
  o.seed ??= Date.now() % 1_000_000;
  // Bounds: nothing unbounded runs on this machine.
  if (!(o.duration > 0 && o.duration <= 120) || !(o.satDuration > 0 && o.satDuration <= 120)) throw new Error('--duration must be in (0, 120] s');
  if (![o.rounds, o.satRounds, o.hsRounds].every((n) => n >= 1 && n <= 30)) throw new Error('--rounds, --sat-rounds and --hs-rounds must be 1..30');
  if (!(o.connections >= 1 && o.connections <= 5000)) throw new Error('--connections must be 1..5000');
  if (!(o.inflight >= 1 && o.inflight <= 1000)) throw new Error('--inflight must be 1..1000');
  if (!(o.rate > 0 && o.rate <= 200_000)) throw new Error('--rate must be in (0, 200000]');
  if (!(o.conns >= 1 && o.conns <= 30000) || !(o.hsConns >= 1 && o.hsConns <= 30000)) throw new Error('--conns must be 1..30000');
  if (!(o.hold >= 0 && o.hold <= 120)) throw new Error('--hold must be in [0, 120] s');
  return o;
}

// ------------------------------------------------------------------ seeded order, fresh addresses
// mulberry32: a small seeded PRNG, so that an order can be replayed with --seed.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffled(xs, rand) {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
// Every server instance gets its clients from a loopback source address no earlier
// instance of this run used (127.X.Y.1, the whole 127/8 is local): a client that binds
// a source address picks its port at bind time and must skip ports still in TIME_WAIT
// from earlier sockets on that address, which slowed whichever scenario followed a big one.
let addressCounter = 0;
let addressBase = 0;
export function freshAddress() {
  const n = (addressBase + addressCounter++) % (250 * 250);
  return `127.${1 + Math.floor(n / 250)}.${1 + (n % 250)}.1`;
}

// ------------------------------------------------------------------ core pinning
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((p) => existsSync(p));
let pinning = { enabled: false, note: '' };
export function setUpPinning(o) {
  const n = cpus().length;
  if (o.pin === 'off') pinning = { enabled: false, note: 'pinning off (--pin off): load generator and server float over all cores' };
  else if (!TASKSET) pinning = { enabled: false, note: 'WARNING: taskset not found: load generator and server float over all cores' };
  else if (n < 2) pinning = { enabled: false, note: 'WARNING: one core: load generator and server share it' };
  else {
    try {
      // -a: every thread of this process; worker threads started later inherit it.
      execFileSync(TASKSET, ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
      pinning = { enabled: true, loadCore: 0, serverCore: 1, note: `load generator (this process, its worker threads) on core 0, servers on core 1 (${n} cores)` };
    } catch (err) {
      pinning = { enabled: false, note: `WARNING: taskset failed (${err.message}): load generator and server float` };
    }
  }
  if (!pinning.enabled) console.warn(`# ${pinning.note}`);
  if (o.nice) {
    try {
      execFileSync('renice', ['-n', String(o.nice), '-p', String(process.pid)], { stdio: 'ignore' });
      pinning.nice = o.nice;
    } catch (err) {
      console.warn(`# WARNING: renice ${o.nice} failed (${err.message}): running at the default priority`);
    }
    // With autogroup scheduling (Linux's default for sessions), a nice value only orders
    // processes within their session's group: against other sessions' work the group's own
    // nice counts. It is set for the run and restored when the bench exits.
    try {
      if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1') {
        const before = /nice\s+(-?\d+)/.exec(readFileSync('/proc/self/autogroup', 'utf8'))?.[1] ?? '0';
        writeFileSync('/proc/self/autogroup', String(o.nice));
        pinning.autogroupNice = o.nice;
        process.on('exit', () => {
          try {
            writeFileSync('/proc/self/autogroup', before);
          } catch {}
        });
        for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
      }
    } catch (err) {
      console.warn(`# WARNING: could not set the autogroup's nice (${err.message}): other sessions' processes compete at equal weight`);
    }
  }
}

// ------------------------------------------------------------------ server process
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startServer(scenario, { profile = false, tag = '' } = {}) {
  const execArgv = ['--expose-gc', '--max-old-space-size=4096', ...(process.env.BENCH_SERVER_FLAGS ? process.env.BENCH_SERVER_FLAGS.split(' ') : [])];
  if (profile === 'cpu-prof') {
    const dir = join(BUILD, 'profiles');
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-name', `s${scenario}${tag}-${Date.now()}.cpuprofile`);
  }
  // Pinned: `taskset -c 1 node …` (fork runs execPath with execArgv; the IPC channel survives the exec).
  // The child inherits this process's nice value (--nice).
  const pin = pinning.enabled ? { execPath: TASKSET, execArgv: ['-c', String(pinning.serverCore), process.execPath, ...execArgv] } : { execArgv };
  const child = fork(join(here, 'server.mjs'), [String(scenario)], { ...pin, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
  const call = (cmd, extra = {}, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ cmd, id, ...extra });
      setTimeout(() => pending.has(id) && (pending.delete(id), reject(new Error(`server ${scenario}: ${cmd} timed out`))), timeoutMs).unref();
    });
  const { port } = await readyP;
  const exited = new Promise((r) => child.once('exit', r));
  return {
    port,
    pid: child.pid,
    url: `ws://127.0.0.1:${port}/ws`,
    scenario,
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
export function startWorkers(count, base) {
  const per = Math.floor(base.connections / count);
  const workers = [];
  for (let w = 0; w < count; w++) {
    const connections = w === count - 1 ? base.connections - per * (count - 1) : per;
    const worker = new Worker(join(here, 'loadgen.mjs'), {
      workerData: { ...base, connections, totalConnections: base.connections, firstIndex: w * per, rate: base.rate ? (base.rate * connections) / base.connections : 0 },
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
    async connected(timeoutMs) {
      return Promise.all(workers.map((w) => w.next(timeoutMs)));
    },
    async closed() {
      this.send('close-all');
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
  const out = { sent: 0, skipped: 0, replies: 0, deliveries: 0, expected: 0, errors: 0, closedEarly: 0, opened: 0, failedOpen: 0, outstanding: 0, windowMs: 0 };
  let hist;
  for (const r of reports) {
    for (const k of Object.keys(out)) out[k] = k === 'windowMs' ? Math.max(out[k], r[k]) : out[k] + r[k];
    const h = new Uint32Array(r.hist.buffer ?? r.hist);
    if (!hist) hist = new Uint32Array(h.length);
    for (let i = 0; i < h.length; i++) hist[i] += h[i];
  }
  out.clientElu = reports.reduce((n, r) => n + r.clientElu, 0);
  out.clientCpuUs = reports.reduce((n, r) => n + r.clientCpuUs, 0);
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
// Steal time of the whole (virtual) machine, in ticks: a vCPU the hypervisor gives to
// another guest. Recorded per window as cores stolen, next to the foreign load.
function stealTicks() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    return Number(f[8] ?? 0);
  } catch {
    return 0;
  }
}
// Busy ticks of one core (/proc/stat cpuN: all but idle and iowait).
function coreBusyTicks(core) {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${core} `));
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
  } catch {
    return NaN;
  }
}
function foreignCores(before, after, seconds) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / TICK / seconds;
}

// ------------------------------------------------------------------ stats helpers
export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const finite = (xs) => xs.filter((x) => Number.isFinite(x));
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const load1 = () => Number(loadavg()[0].toFixed(2));

function summarize(runs, keys) {
  const by = {};
  for (const r of runs) (by[r.scenario] ??= []).push(r);
  const out = {};
  for (const [s, rs] of Object.entries(by)) {
    out[s] = { n: rs.length };
    for (const k of keys) {
      const xs = finite(rs.map((r) => r[k]));
      out[s][k] = median(xs);
      out[s][`${k}Min`] = xs.length ? Math.min(...xs) : NaN;
      out[s][`${k}Max`] = xs.length ? Math.max(...xs) : NaN;
    }
  }
  return out;
}

/** Per-round ratios a/b of `key` for every definition whose two scenarios ran: median, min, max, the rounds' values. */
export function perRoundRatios(runs, defs, key) {
  const out = {};
  for (const d of defs) {
    const k = d.key ?? key;
    const rounds = [...new Set(runs.map((r) => r.round))];
    const xs = [];
    for (const round of rounds) {
      const a = runs.find((r) => r.round === round && r.scenario === d.a);
      const b = runs.find((r) => r.round === round && r.scenario === d.b);
      if (a && b && Number.isFinite(a[k]) && Number.isFinite(b[k]) && b[k] > 0) xs.push(a[k] / b[k]);
    }
    if (!xs.length) continue;
    const m = median(xs);
    const verdict = d.max !== undefined ? (m <= d.max ? 'MET' : 'NOT MET') : d.min !== undefined ? (m >= d.min ? 'MET' : 'NOT MET') : undefined;
    out[`s${d.a}/s${d.b}${d.key ? ` ${d.key}` : ''}`] = { name: d.name, key: k, median: m, min: Math.min(...xs), max: Math.max(...xs), rounds: xs, ...(d.max !== undefined ? { max_target: d.max } : {}), ...(d.min !== undefined ? { min_target: d.min } : {}), ...(verdict ? { verdict } : {}) };
  }
  return out;
}

/** Pearson's r over [x, y] pairs (NaN for fewer than 3). */
export function pearson(pairs) {
  const xy = pairs.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (xy.length < 3) return NaN;
  const mx = xy.reduce((n, [x]) => n + x, 0) / xy.length;
  const my = xy.reduce((n, [, y]) => n + y, 0) / xy.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (const [x, y] of xy) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function ratioLines(title, ratios) {
  const L = [`\n${title}\n`, '| ratio | median | per-round min–max | target |', '|---|---|---|---|'];
  for (const [k, r] of Object.entries(ratios)) {
    const target = r.max_target !== undefined ? `≤ ${r.max_target.toFixed(2)}: ${r.verdict}` : r.min_target !== undefined ? `≥ ${r.min_target.toFixed(2)}: ${r.verdict}` : '';
    L.push(`| ${k} ${r.name} | ${r.median.toFixed(3)} | ${r.min.toFixed(3)}–${r.max.toFixed(3)} | ${target} |`);
  }
  return L.join('\n');
}

function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const l = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/);
    if (l) model = l[1];
  } catch {}
  return { model, cores: cpus().length, memGB: (totalmem() / 2 ** 30).toFixed(1), node: process.version };
}

// ------------------------------------------------------------------ one measured window (rate / saturation)
async function measure(o, scenario, load) {
  for (let attempt = 0; ; attempt++) {
    let r;
    try {
      r = await measureOnce(o, scenario, load);
    } catch (err) {
      // An overloaded server may not answer its IPC in time: the window counts as failed
      // (flagged like one that fell behind), the run goes on.
      console.log(`  (s${scenario}: window failed: ${err.message})`);
      r = { scenario, transport: transportOf(scenario), mode: load.mode, failed: String(err.message), behind: load.mode === 'open', msgsPerSec: NaN, cpuUsPerMsg: NaN, cpuUsPerDelivery: NaN, foreignCores: 0 };
    }
    r.attempts = attempt + 1;
    if (!(r.foreignCores > o.maxForeign || r.behind) || attempt >= o.retries) return r;
    console.log(`  (s${scenario}: ${r.behind ? `fell behind the rate (${fmt(r.msgsPerSec)}/s, p50 ${fmt(r.p50, 2)} ms)` : ''}${r.behind && r.foreignCores > o.maxForeign ? '; ' : ''}${r.foreignCores > o.maxForeign ? `other processes used ${r.foreignCores.toFixed(2)} cores during the window` : ''}; repeating)`);
    await sleep(1000);
  }
}

async function measureOnce(o, scenario, load) {
  const server = await startServer(scenario, { profile: o.cpuProf ? 'cpu-prof' : false });
  const address = freshAddress();
  const gen = startWorkers(o.workers, {
    url: server.url,
    transport: transportOf(scenario),
    connections: o.connections,
    inflight: o.inflight,
    payloadBytes: o.payload,
    workload: o.workload,
    groupSize: o.group,
    localAddresses: [address],
    ...load,
    deadlineMs: (load.warmup + load.duration + 120) * 1000,
  });
  try {
    const conn = await gen.connected();
    const failed = conn.reduce((n, c) => n + c.failedOpen + (c.opened < 1 ? 1 : 0), 0);
    if (failed) throw new Error(`scenario ${scenario}: ${failed} connections failed to open`);
    gen.send('go');
    await sleep(load.warmup * 1000);
    // A full GC before the window: each window starts from the same heap state instead of
    // inheriting whatever the warmup left half-collected.
    await server.call('gc');
    // The backlog of the GC pause is worked off before the window opens.
    await sleep(500);
    gen.send('reset');
    const exclude = new Set([process.pid, server.pid]);
    const f0 = processTicks(exclude);
    const st0 = stealTicks();
    const sc0 = pinning.enabled ? coreBusyTicks(pinning.serverCore) : NaN;
    const loadBefore = load1();
    const profileFile = o.profile || o.allocProfile ? join(BUILD, 'profiles', `s${scenario}-${load.mode}-${Date.now()}.${o.allocProfile ? 'heapprofile' : 'cpuprofile'}`) : undefined;
    if (profileFile) mkdirSync(dirname(profileFile), { recursive: true });
    const s0 = await server.call(profileFile ? 'profile-start' : 'stats', { alloc: o.allocProfile });
    await sleep(load.duration * 1000);
    const s1 = await server.call(profileFile ? 'profile-stop' : 'stats', { file: profileFile });
    const f1 = processTicks(exclude);
    const st1 = stealTicks();
    const sc1 = pinning.enabled ? coreBusyTicks(pinning.serverCore) : NaN;
    const r = await gen.report();
    const seconds = r.windowMs / 1000;
    const cpuS = (s1.cpuUser + s1.cpuSystem - s0.cpuUser - s0.cpuSystem) / 1e6;
    const mainS = (s1.mainUser + s1.mainSystem - s0.mainUser - s0.mainSystem) / 1e6;
    const mainSysS = (s1.mainSystem - s0.mainSystem) / 1e6;
    const serverSeconds = (s1.now - s0.now) / 1000;
    const msgsPerSec = r.replies / seconds;
    const out = {
      scenario,
      transport: transportOf(scenario),
      mode: load.mode,
      source: address,
      msgsPerSec,
      deliveriesPerSec: r.deliveries / seconds,
      sentPerSec: r.sent / seconds,
      p50: r.p50,
      p99: r.p99,
      p999: r.p999,
      cpuUsPerMsg: r.replies ? (cpuS / r.replies) * 1e6 : NaN,
      cpuUsPerDelivery: r.deliveries ? (cpuS / r.deliveries) * 1e6 : NaN,
      // Split of cpuUsPerMsg: the JS thread (its user and system time: the handlers, and the
      // socket syscalls it makes), and every other thread of the server (GC, compiler, pool).
      mainUsPerMsg: r.replies ? (mainS / r.replies) * 1e6 : NaN,
      mainSysUsPerMsg: r.replies ? (mainSysS / r.replies) * 1e6 : NaN,
      otherThreadsUsPerMsg: r.replies ? ((cpuS - mainS) / r.replies) * 1e6 : NaN,
      // Collections in the window: scavenges and mark-compacts per second, GC pause µs per
      // message, and the young generation's size at the end (V8 grows it with what survives).
      scavengesPerSec: (s1.gcMinor - s0.gcMinor) / serverSeconds,
      markCompactsPerSec: (s1.gcMajor - s0.gcMajor) / serverSeconds,
      gcPauseUsPerMsg: r.replies ? ((s1.gcMs - s0.gcMs) * 1e3) / r.replies : NaN,
      youngMB: s1.youngBytes / 2 ** 20,
      // Event-loop turns per message and the events each turn handled: how the messages batch.
      loopsPerMsg: r.replies ? (s1.loops - s0.loops) / r.replies : NaN,
      eventsPerLoop: (s1.uvEvents - s0.uvEvents) / (s1.loops - s0.loops),
      // Broadcast: the fan-out figure (its target is per CPU second).
      deliveriesPerCpuS: cpuS > 0 ? r.deliveries / cpuS : NaN,
      // Broadcast, open loop: deliveries the window's publishes asked for (Σ sender's group size).
      expectedPerSec: r.expected / seconds,
      cpuUtil: cpuS / serverSeconds,
      cpuUserShare: (s1.cpuUser - s0.cpuUser) / 1e6 / cpuS,
      rssMB: s1.rss / 2 ** 20,
      errors: r.errors,
      closedEarly: r.closedEarly,
      skipped: r.skipped,
      outstanding: r.outstanding,
      spansExported: s1.spansExported,
      clientElu: r.clientElu / o.workers,
      // The load generator's own CPU time in the window (its threads, on the other core). Its
      // work per message depends on how the replies arrive (the module's corked writes come in
      // fewer reads), so it is a diagnostic of the window, not a reference to divide by.
      clientCpuUsPerMsg: r.replies ? r.clientCpuUs / r.replies : NaN,
      clientCpuUsPerDelivery: r.deliveries ? r.clientCpuUs / r.deliveries : NaN,
      foreignCores: foreignCores(f0, f1, serverSeconds),
      stealCores: (st1 - st0) / TICK / serverSeconds,
      // Share of the server's core used by anything but the server (pinned runs only).
      serverCoreForeign: Math.max(0, (sc1 - sc0) / TICK / serverSeconds - cpuS / serverSeconds),
      load1: Math.max(loadBefore, load1()),
      replies: r.replies,
      profileFile,
    };
    if (load.mode === 'open') {
      // Fell behind: fewer replies than the rate by more than 3 %, a backlog over 100 ms of
      // traffic at the end, a median round trip over 50 ms (messages queue: a backlog being
      // worked off in batches, whatever the count says), or sends refused. More replies than
      // the rate alone is the generator catching up after it was descheduled: recorded as
      // `overRate`, not a failure of the server.
      // Broadcast: msgsPerSec is publishes that came back to their sender; p50 is over every
      // member's copy; and the deliveries must not fall short of publishes × group size by > 3 %
      // (less one publish's copies: a publish sent at the window's end is delivered after it).
      out.deliveriesShort = o.workload === 'broadcast' && r.expected > 0 && r.deliveries < 0.97 * r.expected - Math.min(o.group, o.connections);
      out.behind = msgsPerSec < 0.97 * load.rate || r.outstanding > load.rate * 0.1 || r.p50 > 50 || r.skipped > 0 || out.deliveriesShort;
      out.overRate = msgsPerSec > 1.03 * load.rate;
    }
    return out;
  } finally {
    await gen.stop();
    await server.stop();
  }
}

// ------------------------------------------------------------------ rate mode (headline)
/** Every scenario once per round, in an order shuffled per round; `line` describes a window for the log. */
async function roundsOf(o, rand, rounds, load, line) {
  const runs = [];
  for (let round = 1; round <= rounds; round++) {
    const order = shuffled(o.scenarios, rand);
    console.log(`  round ${round} order ${order.join(',')}`);
    for (const s of order) {
      const r = await measure(o, s, load);
      r.round = round;
      runs.push(r);
      console.log(`  round ${round} s${s} ${line(r)}`);
    }
  }
  return runs;
}

async function rateMode(o, rand) {
  const started = Date.now();
  const load = { mode: 'open', rate: o.rate, warmup: o.warmup, duration: o.duration };
  const bcast = o.workload === 'broadcast';
  const unit = bcast ? `publishes/s to groups of ${Math.min(o.group, o.connections)} (${fmt(o.rate * Math.min(o.group, o.connections))} deliveries/s asked)` : 'msgs/s';
  console.log(`\n# rate: open loop at ${fmt(o.rate)} ${unit}, ${o.workload}, ${o.connections} connections, ${o.payload} B, ${o.warmup} s warmup + ${o.duration} s window × ${o.rounds} rounds`);
  const runs = await roundsOf(o, rand, o.rounds, load, (r) => {
    const head = bcast
      ? `${fmt(r.cpuUsPerDelivery, 2)} µs/delivery  ${fmt(r.deliveriesPerCpuS)} deliveries/CPU s  ${fmt(r.msgsPerSec)} publishes/s  ${fmt(r.deliveriesPerSec)} deliveries/s (of ${fmt(r.expectedPerSec)})`
      : `${fmt(r.cpuUsPerMsg, 2)} µs/msg (JS thread ${fmt(r.mainUsPerMsg, 1)}, of which system ${fmt(r.mainSysUsPerMsg, 1)}; other threads ${fmt(r.otherThreadsUsPerMsg, 1)})  ${fmt(r.msgsPerSec)} msg/s  GC ${fmt(r.scavengesPerSec, 1)} scavenges/s + ${fmt(r.markCompactsPerSec, 1)} major/s, pause ${fmt(r.gcPauseUsPerMsg, 2)} µs/msg, young ${fmt(r.youngMB, 1)} MB, ${fmt(r.loopsPerMsg, 3)} turns/msg, ${fmt(r.eventsPerLoop, 2)} events/turn`;
    return `${head}${r.behind ? ' BEHIND' : ''}  p50 ${fmt(r.p50, 3)} p99 ${fmt(r.p99, 2)} ms  cpu ${fmt(r.cpuUtil * 100)}%  client ELU ${fmt(r.clientElu, 2)}  load generator ${fmt(bcast ? r.clientCpuUsPerDelivery : r.clientCpuUsPerMsg, 2)} µs/${bcast ? 'delivery' : 'msg'}  foreign ${fmt(r.foreignCores, 2)} cores  steal ${fmt(r.stealCores, 2)}  server core foreign ${fmt(r.serverCoreForeign, 2)}  load ${r.load1}${r.profileFile ? `  profile ${r.profileFile} (${r.replies} msgs)` : ''}${r.errors ? `  errors ${r.errors}` : ''}`;
  });
  // A window that fell behind the rate (even after its retry) is flagged and left out of
  // the medians and ratios: its CPU per message is that of a backlog worked off in
  // batches, not of the rate.
  const kept = runs.filter((r) => !r.behind);
  const T = summarize(runs.filter((r) => !r.behind || !kept.some((k) => k.scenario === r.scenario)), ['cpuUsPerMsg', 'cpuUsPerDelivery', 'deliveriesPerCpuS', 'msgsPerSec', 'deliveriesPerSec', 'expectedPerSec', 'p50', 'p99', 'cpuUtil', 'clientElu', 'clientCpuUsPerMsg', 'clientCpuUsPerDelivery', 'foreignCores', 'serverCoreForeign', 'stealCores', 'load1', 'rssMB']);
  const perMsgKey = bcast ? 'cpuUsPerDelivery' : 'cpuUsPerMsg';
  // Broadcast: the fan-out ratios (deliveries per CPU s, BCAST_RATIOS; the echo CPU targets do not apply).
  const ratios = bcast ? perRoundRatios(kept, BCAST_RATIOS, 'deliveriesPerCpuS') : perRoundRatios(kept, CPU_RATIOS, perMsgKey);
  const clientKey = bcast ? 'clientCpuUsPerDelivery' : 'clientCpuUsPerMsg';
  // How closely the server's and the load generator's CPU per message move together, per scenario.
  const together = Object.fromEntries(o.scenarios.map((s) => [s, pearson(kept.filter((r) => r.scenario === s).map((r) => [r[perMsgKey], r[clientKey]]))]));
  const L = [];
  if (bcast) {
    const g = Math.min(o.group, o.connections);
    L.push(`\n## Broadcast fan-out at a fixed publish rate (${fmt(o.rate)} publishes/s open loop to groups of ${g}, ${o.connections} connections, ${o.payload} B, median of ${o.rounds} × ${o.duration} s)\n`);
    L.push('| # | scenario | µs / delivery (min–max) | deliveries / CPU s (min–max) | publishes/s | deliveries/s (asked) | behind | delivery p50 ms | p99 ms | server CPU % | client ELU | foreign cores (server core) | load1 |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of o.scenarios) {
      const t = T[s];
      const behind = runs.filter((r) => r.scenario === s && r.behind).length;
      L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t.cpuUsPerDelivery, 2)} (${fmt(t.cpuUsPerDeliveryMin, 2)}–${fmt(t.cpuUsPerDeliveryMax, 2)}) | ${fmt(t.deliveriesPerCpuS)} (${fmt(t.deliveriesPerCpuSMin)}–${fmt(t.deliveriesPerCpuSMax)}) | ${fmt(t.msgsPerSec)} | ${fmt(t.deliveriesPerSec)} (${fmt(t.expectedPerSec)}) | ${behind ? `${behind} of ${t.n} rounds` : 'no'} | ${fmt(t.p50, 3)} | ${fmt(t.p99, 2)} | ${fmt(t.cpuUtil * 100)} | ${fmt(t.clientElu, 2)} | ${fmt(t.foreignCores, 2)} (${fmt(t.serverCoreForeign, 2)}) | ${fmt(t.load1, 2)} |`);
    }
    L.push(ratioLines('Per-round ratios of deliveries per server CPU second (same round), median (min–max):', ratios));
  } else {
    L.push(`\n## Server CPU per message at a fixed rate (${fmt(o.rate)} msgs/s open loop, ${o.connections} connections, ${o.payload} B, median of ${o.rounds} × ${o.duration} s)\n`);
    L.push('| # | scenario | µs / msg (min–max) | achieved msgs/s | behind | p50 ms | p99 ms | server CPU % | client ELU | load generator µs / msg (min–max) | r(server, load generator) | foreign cores (server core) | load1 |');
    L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const s of o.scenarios) {
      const t = T[s];
      const behind = runs.filter((r) => r.scenario === s && r.behind).length;
      L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t[perMsgKey], 2)} (${fmt(t[`${perMsgKey}Min`], 2)}–${fmt(t[`${perMsgKey}Max`], 2)}) | ${fmt(t.msgsPerSec)} | ${behind ? `${behind} of ${t.n} rounds` : 'no'} | ${fmt(t.p50, 3)} | ${fmt(t.p99, 2)} | ${fmt(t.cpuUtil * 100)} | ${fmt(t.clientElu, 2)} | ${fmt(t.clientCpuUsPerMsg, 2)} (${fmt(t.clientCpuUsPerMsgMin, 2)}–${fmt(t.clientCpuUsPerMsgMax, 2)}) | ${fmt(together[s], 2)} | ${fmt(t.foreignCores, 2)} (${fmt(t.serverCoreForeign, 2)}) | ${fmt(t.load1, 2)} |`);
    }
    L.push(ratioLines('Per-round ratios of server CPU per message (same round), median (min–max):', ratios));
  }
  const behindRuns = runs.filter((r) => r.behind);
  if (behindRuns.length) L.push(`\nWARNING: ${behindRuns.length} window(s) fell behind the rate after a retry and are left out of the medians and ratios (${behindRuns.map((r) => `s${r.scenario} round ${r.round}: ${fmt(r.msgsPerSec)}/s, p50 ${fmt(r.p50, 2)} ms${r.deliveriesShort ? `, ${fmt(r.deliveriesPerSec)} of ${fmt(r.expectedPerSec)} deliveries/s` : ''}`).join('; ')}); a scenario with every window behind is shown from them, flagged.`);
  console.log(L.join('\n'));
  console.log(`# rate part ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { rate: o.rate, runs, summary: T, ratios, loadGeneratorTogether: together, table: L.join('\n') };
}

// ------------------------------------------------------------------ saturation mode (second view)
async function saturationMode(o, rand, { rounds, duration }) {
  const started = Date.now();
  const load = { mode: 'closed', warmup: o.warmup, duration };
  console.log(`\n# saturation: closed loop, ${o.workload}, ${o.connections} conns × ${o.inflight} in flight, ${o.payload} B, ${o.warmup}+${duration} s × ${rounds} rounds`);
  const runs = await roundsOf(o, rand, rounds, load, (r) => `${fmt(r.msgsPerSec)} msg/s  ${fmt(r.cpuUsPerMsg, 2)} µs/msg  p99 ${fmt(r.p99, 2)} ms  cpu ${fmt(r.cpuUtil * 100)}%  client ELU ${fmt(r.clientElu, 2)}  foreign ${fmt(r.foreignCores, 2)} cores  load ${r.load1}${r.errors ? `  errors ${r.errors}` : ''}`);
  const T = summarize(runs, ['msgsPerSec', 'deliveriesPerSec', 'cpuUsPerMsg', 'cpuUsPerDelivery', 'p50', 'p99', 'cpuUtil', 'clientElu', 'rssMB']);
  const key = o.workload === 'broadcast' ? 'deliveriesPerSec' : 'msgsPerSec';
  const ratios = perRoundRatios(runs, SAT_RATIOS, key);
  // Broadcast: deliveries per server CPU second, the figure of the fan-out target.
  const perCpu = o.workload === 'broadcast' ? perRoundRatios(runs, BCAST_RATIOS, 'deliveriesPerCpuS') : {};
  const L = [];
  L.push(`\n## Saturation (closed loop, ${o.workload}, ${o.connections} connections × ${o.inflight} in flight, ${o.payload} B, median of ${rounds} × ${duration} s)\n`);
  L.push(`| # | scenario | msgs/s (min–max) | ${o.workload === 'broadcast' ? 'deliveries/s | ' : ''}µs / msg | p50 ms | p99 ms | server CPU % | client ELU |`);
  L.push(`|---|---|---|${o.workload === 'broadcast' ? '---|' : ''}---|---|---|---|---|`);
  for (const s of o.scenarios) {
    const t = T[s];
    L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t.msgsPerSec)} (${fmt(t.msgsPerSecMin)}–${fmt(t.msgsPerSecMax)}) | ${o.workload === 'broadcast' ? `${fmt(t.deliveriesPerSec)} | ` : ''}${fmt(t.cpuUsPerMsg, 2)} | ${fmt(t.p50, 2)} | ${fmt(t.p99, 2)} | ${fmt(t.cpuUtil * 100)} | ${fmt(t.clientElu, 2)} |`);
  }
  L.push(ratioLines(`Per-round ratios of ${key} (same round), median (min–max):`, ratios));
  if (Object.keys(perCpu).length) L.push(ratioLines('Per-round ratios of deliveries per server CPU second:', perCpu));
  console.log(L.join('\n'));
  console.log(`# saturation part ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { runs, summary: T, ratios: { ...ratios, ...perCpu }, table: L.join('\n') };
}

// ------------------------------------------------------------------ handshake / connections mode
async function connectionsMode(o, rand, { conns, hold, scenarios, rounds }) {
  const started = Date.now();
  console.log(`\n# ${hold > 0 ? 'connections' : 'handshake'}: ${fmt(conns)} sockets per scenario and round (64 opening at a time, fresh source address each)${hold > 0 ? `, held ${hold} s with heartbeat every ${o.heartbeatMs} ms` : ''}, ${rounds} rounds`);
  const rows = [];
  const cpu = (a, b) => (b.cpuUser + b.cpuSystem - a.cpuUser - a.cpuSystem) / 1e6;
  for (let round = 1; round <= rounds; round++) {
    const order = shuffled(scenarios, rand);
    for (const s of order) {
      const server = await startServer(s, { profile: o.cpuProf ? 'cpu-prof' : false, tag: '-conns' });
      const workers = conns > 5000 ? 2 : 1;
      // One fresh address per 1,000 sockets: a bind() to an address with thousands of ports
      // taken searches for a free one, which made the client itself the bottleneck at 15,000.
      const addresses = Array.from({ length: Math.ceil(conns / 1000) }, freshAddress);
      let gen;
      try {
        // Warmup: 200 handshakes and closes from their own address, so that the measured
        // ones do not pay the first calls' compilation (more code in the module's path).
        const warm = startWorkers(1, { url: server.url, transport: transportOf(s), connections: 200, mode: 'idle', localAddresses: [freshAddress()], connectConcurrency: 64, deadlineMs: 120_000 });
        await warm.connected(60_000);
        await warm.closed();
        await warm.stop();
        await sleep(300);
        const base = await server.call('gc');
        const loadBefore = load1();
        const profileFile = o.profile || o.allocProfile ? join(BUILD, 'profiles', `s${s}-handshake-${Date.now()}.${o.allocProfile ? 'heapprofile' : 'cpuprofile'}`) : undefined;
        if (profileFile) mkdirSync(dirname(profileFile), { recursive: true });
        const c0 = await server.call(profileFile ? 'profile-start' : 'stats', { alloc: o.allocProfile });
        gen = startWorkers(workers, {
          url: server.url,
          transport: transportOf(s),
          connections: conns,
          mode: 'idle',
          localAddresses: addresses,
          connectConcurrency: Math.ceil(64 / workers),
          deadlineMs: (hold * 3 + 300) * 1000,
        });
        const conn = await gen.connected(300_000);
        // The opening phase as the load workers timed it (their own start-up excluded).
        const handshakeS = Math.max(...conn.map((c) => c.connectMs)) / 1000;
        const c1 = await server.call(profileFile ? 'profile-stop' : 'stats', { file: profileFile });
        const opened = conn.reduce((n, c) => n + c.opened, 0);
        const failed = conn.reduce((n, c) => n + c.failedOpen, 0);
        const lat = Float64Array.from(conn.flatMap((c) => Array.from(c.handshakeMs))).sort();
        const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] : NaN);
        const row = {
          scenario: s,
          round,
          transport: transportOf(s),
          source: `${addresses[0]}${addresses.length > 1 ? ` (+${addresses.length - 1})` : ''}`,
          opened,
          failed,
          handshakesPerSec: opened / handshakeS,
          handshakeP50: q(0.5),
          handshakeP99: q(0.99),
          cpuUsPerHandshake: (cpu(c0, c1) / opened) * 1e6,
          // Wall time of the opening phase the server was busy (1 = CPU-bound, low = waiting).
          serverBusyWhileOpening: cpu(c0, c1) / handshakeS,
          // How busy the load generator's event loop was meanwhile (near 1: client-bound).
          clientEluWhileOpening: Math.max(...conn.map((c) => c.connectElu)),
          load1: loadBefore,
          profileFile,
        };
        if (hold > 0) {
          await sleep(1000);
          const full = await server.call('gc');
          const i0 = await server.call('stats');
          await sleep(Math.min(5, hold) * 1000);
          const i1 = await server.call('stats');
          await server.call('heartbeat', { intervalMs: o.heartbeatMs });
          const h0 = await server.call('stats');
          await sleep(hold * 1000);
          const h1 = await server.call('stats');
          await server.call('heartbeat', { intervalMs: 0 });
          const after = await server.call('gc');
          const idleCpuPerS = cpu(i0, i1) / ((i1.now - i0.now) / 1000);
          const beats = h1.heartbeatRounds - h0.heartbeatRounds;
          Object.assign(row, {
            held: after.clients,
            terminated: after.heartbeatTerminated,
            rssBaseMB: base.rss / 2 ** 20,
            rssFullMB: full.rss / 2 ** 20,
            rssPerConnKB: (full.rss - base.rss) / opened / 1024,
            heapPerConnKB: (full.heapUsed - base.heapUsed) / opened / 1024,
            idleCpuPct: idleCpuPerS * 100,
            hbCpuPct: (cpu(h0, h1) / ((h1.now - h0.now) / 1000)) * 100,
            hbCpuMsPerRound: beats ? ((cpu(h0, h1) - idleCpuPerS * ((h1.now - h0.now) / 1000)) / beats) * 1000 : NaN,
          });
        }
        // Close every socket from the client side (close frames): the server's close path
        // (lifecycle, close span, metrics) per connection.
        const k0 = await server.call('stats');
        await gen.closed();
        const waitUntil = performance.now() + 10_000;
        let k1 = await server.call('stats');
        while (k1.clients > 0 && performance.now() < waitUntil) {
          await sleep(100);
          k1 = await server.call('stats');
        }
        await sleep(200);
        k1 = await server.call('stats');
        row.cpuUsPerClose = (cpu(k0, k1) / opened) * 1e6;
        row.leftOpen = k1.clients;
        rows.push(row);
        console.log(`  round ${round} s${s}: ${opened} open (${failed} refused) ${fmt(row.handshakesPerSec)}/s, handshake p50 ${fmt(row.handshakeP50, 2)} p99 ${fmt(row.handshakeP99, 2)} ms, CPU ${fmt(row.cpuUsPerHandshake)} µs/handshake (server busy ${fmt(row.serverBusyWhileOpening * 100)}%, client ELU ${fmt(row.clientEluWhileOpening, 2)} while opening), close ${fmt(row.cpuUsPerClose)} µs${hold > 0 ? `, RSS ${fmt(row.rssPerConnKB, 1)} KB/conn, heap ${fmt(row.heapPerConnKB, 1)} KB/conn, heartbeat ${fmt(row.hbCpuMsPerRound, 1)} ms/round, held ${row.held}` : ''}, load ${row.load1}${profileFile ? `, profile ${profileFile} (${opened} handshakes)` : ''}`);
      } finally {
        await gen?.stop();
        await server.stop();
      }
    }
  }
  const keys = ['handshakesPerSec', 'handshakeP50', 'handshakeP99', 'cpuUsPerHandshake', 'serverBusyWhileOpening', 'clientEluWhileOpening', 'cpuUsPerClose'];
  if (hold > 0) keys.push('rssPerConnKB', 'heapPerConnKB', 'rssFullMB', 'idleCpuPct', 'hbCpuPct', 'hbCpuMsPerRound', 'held');
  const S = summarize(rows, keys);
  const defs = [...HS_RATIOS, ...(hold > 0 ? [{ a: 3, b: 2, key: 'rssPerConnKB', name: 'RSS per connection, module / bare NestJS', max: 1 }] : [])];
  const ratios = perRoundRatios(rows, defs);
  const L = [];
  L.push(`\n## ${hold > 0 ? 'Connections' : 'Handshakes'} (${fmt(conns)} sockets, 64 opening at a time, fresh source address per scenario and round, median of ${rounds} rounds)\n`);
  L.push(`| # | scenario | handshakes/s | p50 ms | p99 ms | CPU µs / handshake | server busy / client ELU while opening | CPU µs / close |${hold > 0 ? ' held | RSS KB / conn | heap KB / conn | heartbeat CPU ms / round |' : ''}`);
  L.push(`|---|---|---|---|---|---|---|---|${hold > 0 ? '---|---|---|---|' : ''}`);
  for (const s of scenarios) {
    const t = S[s];
    L.push(`| ${s} | ${SCENARIOS[s]} | ${fmt(t.handshakesPerSec)} | ${fmt(t.handshakeP50, 2)} | ${fmt(t.handshakeP99, 2)} | ${fmt(t.cpuUsPerHandshake)} | ${fmt(t.serverBusyWhileOpening * 100)} % / ${fmt(t.clientEluWhileOpening, 2)} | ${fmt(t.cpuUsPerClose)} |${hold > 0 ? ` ${fmt(t.held)} | ${fmt(t.rssPerConnKB, 1)} | ${fmt(t.heapPerConnKB, 1)} | ${fmt(t.hbCpuMsPerRound, 1)} |` : ''}`);
  }
  L.push(ratioLines('Per-round ratios (same round), median (min–max):', ratios));
  console.log(L.join('\n'));
  console.log(`# ${hold > 0 ? 'connections' : 'handshake'} part ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { conns, hold, rows, summary: S, ratios, table: L.join('\n') };
}

// ------------------------------------------------------------------ main
// Only when run as a script: bench/conn-memory.mjs imports the server and load-worker helpers above.
if (process.argv[1] && realpathSync(resolvePath(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url))) {
  const o = parseArgs(process.argv.slice(2));
  // Scenario 6's server process finds the other build through its environment.
  if (o.baselineLib) process.env.BENCH_BASELINE_LIB = resolvePath(o.baselineLib);
  mkdirSync(BUILD, { recursive: true });
  const hardStop = setTimeout(() => {
    console.error('bench: hard time limit (40 min) reached');
    process.exit(5);
  }, 40 * 60_000);
  hardStop.unref();
  setUpPinning(o);
  addressBase = (o.seed * 7919) % (250 * 250);
  const m = machine();
  const rand = prng(o.seed);
  const result = { options: o, seed: o.seed, machine: m, pinning, startedAt: new Date().toISOString(), loadavgStart: loadavg() };
  console.log(`# tracing-ws bench, mode ${o.mode}, seed ${o.seed} (--seed ${o.seed} replays the order)`);
  console.log(`# ${m.model}, ${m.cores} cores, ${m.memGB} GiB, node ${m.node}; ${pinning.note}${pinning.nice ? `; nice ${pinning.nice}${pinning.autogroupNice ? ' (and its autogroup)' : ''}` : ''}; loadavg ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  try {
    if (o.mode === 'rate' || o.mode === 'all') result.rate = await rateMode(o, rand);
    if (o.mode === 'handshake' || o.mode === 'all') {
      const hsScenarios = o.mode === 'all' ? o.hsScenarios.filter((s) => o.scenarios.includes(s)) : o.scenarios;
      result.handshake = await connectionsMode(o, rand, { conns: o.hsConns, hold: 0, scenarios: hsScenarios, rounds: o.mode === 'all' ? o.hsRounds : o.rounds });
    }
    if (o.mode === 'connections') result.connections = await connectionsMode(o, rand, { conns: o.conns, hold: o.hold, scenarios: o.scenarios, rounds: Math.min(o.rounds, 3) });
    if (o.mode === 'saturation') result.saturation = await saturationMode(o, rand, { rounds: o.rounds, duration: o.duration });
    if (o.mode === 'all') result.saturation = await saturationMode(o, rand, { rounds: o.satRounds, duration: o.satDuration });
    result.loadavgEnd = loadavg();
    result.finishedAt = new Date().toISOString();
    console.log(`\n# total ${((Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000).toFixed(0)} s; loadavg at start ${result.loadavgStart.map((x) => x.toFixed(2)).join(' ')}, at end ${result.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}`);
    if (o.json) {
      for (const part of ['rate', 'handshake', 'connections', 'saturation']) if (result[part]) delete result[part].table;
      writeFileSync(o.json, JSON.stringify(result, null, 2));
      console.log(`# results in ${o.json}`);
    }
  } finally {
    rmSync('/tmp/tracing-ws-bench-s4.log', { force: true });
  }
  process.exit(0);
}
