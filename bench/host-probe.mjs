// How steady this machine's cores are, without any server: a fixed batch of work, timed in the
// thread's own CPU time every 250 ms, printed as a multiple of the run's median.
//
//   taskset -c 1 sh scripts/node.sh bench/host-probe.mjs [--kind cache|memory] [--seconds 60]
//
//   cache   arithmetic over a 32 KB array (first-level cache): what a CPU's speed does
//   memory  dependent random reads over a 256 MB array: what the host's caches and memory do
// A batch that takes longer in CPU time did the same work more slowly: in a guest with no steal
// time, that is the host's contention, which nothing in the guest shows (bench/RESULTS.md, round four).

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const kind = opt('--kind', 'memory');
const seconds = Number(opt('--seconds', 60));
if (!['cache', 'memory'].includes(kind) || !(seconds > 0 && seconds <= 600)) throw new Error('--kind cache|memory, --seconds in (0, 600]');

let sink = 0;
let batch;
if (kind === 'cache') {
  const a = new Float64Array(4096);
  batch = () => {
    let x = 0;
    for (let k = 0; k < 40; k++) for (let i = 0; i < a.length; i++) x += a[i] = a[(i * 7) & 4095] * 0.5 + i;
    sink += x > 0 ? 1 : 0;
  };
} else {
  const n = 64 * 1024 * 1024;
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.imul(i, 2654435761) >>> 0) % n;
  let j = 1;
  batch = () => {
    for (let k = 0; k < 20000; k++) j = a[j];
    sink += j;
  };
}

const perBatch = [];
const end = Date.now() + seconds * 1000;
while (Date.now() < end) {
  const c0 = process.threadCpuUsage();
  const t0 = Date.now();
  let count = 0;
  for (; Date.now() - t0 < 250; count++) batch();
  const c1 = process.threadCpuUsage();
  perBatch.push((c1.user + c1.system - c0.user - c0.system) / count);
}
const sorted = [...perBatch].sort((x, y) => x - y);
const median = sorted[sorted.length >> 1];
console.log(`# ${kind}: ${perBatch.length} readings of 250 ms, median ${median.toFixed(1)} µs per batch, min ${(sorted[0] / median).toFixed(2)} ×, max ${(sorted.at(-1) / median).toFixed(2)} × the median${sink === -1 ? '.' : ''}`);
console.log(perBatch.map((x) => (x / median).toFixed(2)).join(' '));
