// Soak test (not part of npm test): 1,000 connections for 60 s against the
// resilience fixture app, mixing good clients, garbage senders, silent peers
// (no pongs), slow readers (stop reading their socket) and ping flooders (ping
// without end and never read). Loopback only,
// bounded in time and count. Prints sent vs delivered for good clients (must be
// equal), server RSS before and after, and every ws_ counter.
//
// With --redis (needs redis-server), broadcasts go through a local Redis that is
// frozen (SIGSTOP) for a third of the run: the report says when the server
// noticed, what its publishes became (published / timeout / backlog / publish)
// and its memory during the stall.
//
// The server keeps a room history (HISTORY=1): --droppers clients (20 by default)
// join a room that gets 20 broadcasts a second and cut their own TCP connection at
// random (every 1-5 s, no close frame); they reconnect, re-join and recover through
// the client library. The report counts, exactly, the broadcasts each one lost and
// received twice (both must be 0), and its recovery failures (with --redis, the
// stall's unnumbered broadcasts make those expected; such droppers are listed apart).
//
//   npm run soak -- [--connections 1000] [--duration 60] [--redis] [--droppers 20]
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { TracingWsClient } from '@tracing-ws/client';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, duration: { type: 'string', default: '60' }, redis: { type: 'boolean', default: false }, droppers: { type: 'string', default: '20' } } });
const DROPPERS = Math.min(Number(values.droppers), 500);
const CONNECTIONS = Math.min(Number(values.connections), 5000);
const DURATION_MS = Math.min(Number(values.duration), 600) * 1000;
const root = join(import.meta.dirname, '..');

let redis;
let redisUrl;
if (values.redis) {
  const redisPort = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10000);
    redis.stdout.on('data', (c) => String(c).includes('Ready to accept') && (clearTimeout(timer), resolve()));
  });
  process.once('exit', () => redis.kill('SIGKILL'));
  redisUrl = `redis://127.0.0.1:${redisPort}`;
}

const server = spawn(process.execPath, [join(root, 'test', 'fixtures', 'resilience-app.mjs')], {
  env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', HEARTBEAT_MS: '5000', HISTORY: '1', HISTORY_SIZE: '1000', MAX_BUFFERED_BYTES: '262144', SLOW_CLOSE_MS: '5000', ...(redisUrl ? { REDIS_URL: redisUrl } : {}) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
// The server's log lines are read (and dropped) for the whole run, so its stdout never blocks.
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('server did not start')), 20000);
  let buf = '';
  server.stdout.on('data', (c) => {
    if (buf === null) return;
    buf += c;
    const m = /"port":(\d+)/.exec(buf);
    if (m) {
      clearTimeout(timer);
      buf = null;
      resolve(Number(m[1]));
    }
  });
});
process.once('exit', () => server.kill('SIGKILL'));
const base = `127.0.0.1:${port}`;
const scrape = async () => (await fetch(`http://${base}/metrics`)).text();
const metric = (text, name) => text.split('\n').filter((l) => l.startsWith(name)).map((l) => Number(l.split(' ').pop())).reduce((a, b) => a + b, 0);

const before = await scrape();
const stats = { good: { sent: 0, delivered: 0 }, garbage: { closed: 0 }, silent: { closed: 0 }, slow: { closed: 0 }, pinger: { closed: 0 }, errors: 0 };
const kinds = ['good', 'good', 'garbage', 'silent', 'slow', 'good', 'good', 'garbage', 'silent', 'pinger'];
const sockets = [];
const deadline = Date.now() + DURATION_MS;

function open(kind) {
  const ws = new WebSocket(`ws://${base}/r`, { autoPong: kind !== 'silent' });
  sockets.push(ws);
  ws.on('error', () => stats.errors++);
  ws.on('close', () => kind !== 'good' && stats[kind].closed++);
  ws.on('open', () => {
    if (kind === 'good') {
      const tick = () => {
        if (Date.now() > deadline || ws.readyState !== WebSocket.OPEN) return;
        stats.good.sent++;
        ws.send(JSON.stringify({ event: 'echo', data: { n: stats.good.sent } }));
        setTimeout(tick, 200 + Math.random() * 300);
      };
      // Only its echo replies: with --redis, every client also receives the announcer's broadcasts.
      ws.on('message', (raw) => String(raw).startsWith('{"event":"echo"') && stats.good.delivered++);
      tick();
    } else if (kind === 'garbage') {
      const spam = setInterval(() => (ws.readyState === WebSocket.OPEN ? ws.send('{garbage') : clearInterval(spam)), 50);
    } else if (kind === 'slow') {
      ws._socket.pause();
      const big = JSON.stringify({ event: 'echo', data: 'x'.repeat(32 * 1024) });
      const push = setInterval(() => (ws.readyState === WebSocket.OPEN && Date.now() < deadline ? ws.send(big) : clearInterval(push)), 20);
    } else if (kind === 'pinger') {
      ws._socket.pause();
      // 500 pings every 50 ms (10,000/s), never reading a pong.
      const flood = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN || Date.now() > deadline) return clearInterval(flood);
        for (let i = 0; i < 500; i++) ws.ping();
      }, 50);
    }
  });
}

for (let i = 0; i < CONNECTIONS; i++) {
  open(kinds[i % kinds.length]);
  if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50));
}
// Droppers: library clients in room "soak" that cut their TCP connection at random.
const droppers = [];
async function dropper() {
  const d = { socket: undefined, counts: new Map(), deliveries: 0, outOfOrder: 0, last: -1, first: undefined, failures: 0, drops: 0 };
  class Tracked extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      d.socket = this;
    }
  }
  const client = new TracingWsClient({ url: `ws://${base}/r`, WebSocket: Tracked, reconnect: { baseMs: 50, capMs: 500, maxAttempts: 1000 } });
  d.client = client;
  client.subscribe('said', ({ i }) => {
    d.deliveries++;
    d.counts.set(i, (d.counts.get(i) ?? 0) + 1);
    if (d.first === undefined) d.first = i;
    if (i < d.last) d.outOfOrder++;
    d.last = Math.max(d.last, i);
  });
  client.on('recoveryFailed', () => d.failures++);
  client.on('error', () => undefined);
  await client.connect();
  await client.join('soak');
  const drop = () => {
    if (Date.now() > deadline - 3000) return;
    if (d.socket?._socket) {
      d.socket._socket.destroy();
      d.drops++;
    }
    setTimeout(drop, 1000 + Math.random() * 4000);
  };
  setTimeout(drop, 1000 + Math.random() * 4000);
  droppers.push(d);
}
for (let i = 0; i < DROPPERS; i++) await dropper();
// The room's publisher: 20 numbered broadcasts a second, each acknowledged.
const sayer = new WebSocket(`ws://${base}/r`);
await new Promise((resolve) => sayer.once('open', resolve));
let said = 0;
sayer.on('message', (raw) => String(raw).startsWith('{"event":"sent"') && said++);
let sayNext = 0;
const saying = setInterval(() => Date.now() < deadline - 2000 && sayer.send(JSON.stringify({ event: 'say', data: { room: 'soak', i: sayNext++ } })), 50);

const stall = { noticedAfterMs: -1, rssDuringMiB: 0 };
if (redis) {
  // An announcer broadcasts 100 times a second for the whole run; Redis freezes for the middle third.
  const announcer = new WebSocket(`ws://${base}/r`);
  await new Promise((resolve) => announcer.once('open', resolve));
  announcer.on('message', () => undefined);
  const shouting = setInterval(() => announcer.readyState === WebSocket.OPEN && announcer.send(JSON.stringify({ event: 'shout', data: { t: Date.now() } })), 10);
  const third = DURATION_MS / 3;
  await new Promise((r) => setTimeout(r, third));
  redis.kill('SIGSTOP');
  const stalledAt = Date.now();
  while (Date.now() - stalledAt < third) {
    const text = await scrape();
    if (stall.noticedAfterMs < 0 && metric(text, 'ws_broadcast_backend_up') === 0) stall.noticedAfterMs = Date.now() - stalledAt;
    stall.rssDuringMiB = Math.max(stall.rssDuringMiB, metric(text, 'process_resident_memory_bytes') / 1024 / 1024);
    await new Promise((r) => setTimeout(r, 250));
  }
  redis.kill('SIGCONT');
  while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
  clearInterval(shouting);
  announcer.terminate();
}
while (Date.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
clearInterval(saying);
// Let the last replies of good clients, and the droppers' last broadcasts, arrive (bounded).
const settle = Date.now() + 10000;
const droppersDone = () => said === sayNext && droppers.every((d) => d.counts.has(sayNext - 1));
while ((stats.good.delivered < stats.good.sent || !droppersDone()) && Date.now() < settle) await new Promise((r) => setTimeout(r, 100));
const history = { lost: 0, duplicates: 0, outOfOrder: 0, drops: 0, failedDroppers: 0, lostByFailed: 0 };
for (const d of droppers) {
  let lost = 0;
  for (let i = d.first ?? sayNext; i < sayNext; i++) if (!d.counts.has(i)) lost++;
  history.drops += d.drops;
  if (d.failures > 0) {
    history.failedDroppers++;
    history.lostByFailed += lost;
    continue;
  }
  history.lost += lost;
  history.duplicates += d.deliveries - d.counts.size;
  history.outOfOrder += d.outOfOrder;
  d.client.close();
}
sayer.terminate();
const after = await scrape();
for (const ws of sockets) ws.terminate();
server.kill('SIGTERM');

const rss = (text) => (metric(text, 'process_resident_memory_bytes') / 1024 / 1024).toFixed(1);
console.log(`connections ${CONNECTIONS} (${kinds.join('/')}), duration ${DURATION_MS / 1000}s`);
console.log(`good clients: sent ${stats.good.sent}, delivered ${stats.good.delivered}${stats.good.sent === stats.good.delivered ? ' (equal)' : ' (MISMATCH)'}`);
console.log(`closed by the server: garbage ${stats.garbage.closed}, silent ${stats.silent.closed}, slow ${stats.slow.closed}, ping flooders ${stats.pinger.closed}; client errors ${stats.errors}`);
console.log(`server RSS: before ${rss(before)} MiB, after ${rss(after)} MiB`);
if (redis) {
  const failed = (reason) => metric(after, `ws_broadcast_failed_total{reason="${reason}"}`);
  console.log(`hung Redis (SIGSTOP for ${(DURATION_MS / 3000).toFixed(0)} s): noticed after ${stall.noticedAfterMs < 0 ? 'never' : `${(stall.noticedAfterMs / 1000).toFixed(1)} s`}, peak RSS during the stall ${stall.rssDuringMiB.toFixed(1)} MiB; publishes: published ${metric(after, 'ws_broadcast_published_total')}, timeout ${failed('timeout')}, backlog ${failed('backlog')}, not sent ${failed('publish')}; backend up at the end: ${metric(after, 'ws_broadcast_backend_up')}`);
  redis.kill('SIGKILL');
}
console.log(`room history: ${DROPPERS} droppers cut their connection ${history.drops} times; ${sayNext} broadcasts; lost ${history.lost}, duplicates ${history.duplicates}, out of order ${history.outOfOrder}${history.failedDroppers ? `; ${history.failedDroppers} droppers told recovery failed (lost ${history.lostByFailed}, not counted above)` : ''}; recovered ${metric(after, 'ws_history_recovered_messages_total')}`);
for (const line of after.split('\n')) if (/^ws_[a-z_]+(_total)?(\{[^}]*\})? /.test(line) && !line.includes('_bucket') && (line.includes('_total') || line.startsWith('ws_connections_active'))) console.log(`  ${line}`);
const historyOk = history.lost === 0 && history.duplicates === 0 && history.outOfOrder === 0;
process.exit(stats.good.sent === stats.good.delivered && historyOk ? 0 : 1);
