// Scale-out benchmark: two instances of the module on one real redis-server, a room
// spanning both, a publisher on instance A. Reports cross-instance deliveries per
// second, publish-to-delivery latency (local and across Redis, p50/p99) and each
// instance's CPU per delivery.
//
//   npm run build && sh scripts/node.sh bench/scale-out.mjs [--conns 5000] [--rate 2] [--duration 10] [--warmup 3] [--json out.json]
//
// --conns   connections per instance, all in room `all` (default 5000)
// --rate    publications per second from one client on A (default 2): each reaches 2 × conns sockets
// --sample  receivers per instance whose frames are parsed for latency (default 200); the others only count
// Needs redis-server on PATH (Debian package redis-server). The load generator shares the
// machine with both servers and Redis: read the CPU figures as per-instance server cost.
//
// Internal: `scale-out.mjs server <instanceId> <redisUrl>` is one instance (forked, IPC).

import { fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------- one instance
async function serve(instanceId, redisUrl) {
  process.on('disconnect', () => process.exit(0));
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor, AlwaysOnSampler, ParentBasedSampler } = await import('@opentelemetry/sdk-trace');
  let spans = 0;
  const exporter = { export: (s, done) => ((spans += s.length), done({ code: 0 })), shutdown: async () => {}, forceFlush: async () => {} };
  const sdk = new NodeSDK({ instrumentations: [], sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }), spanProcessors: [new BatchSpanProcessor({ exporter })] });
  sdk.start();
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { Module } = await import('@nestjs/common');
  const { WebSocketGateway, SubscribeMessage } = await import('@nestjs/websockets');
  const { LoggerModule } = await import('nestjs-pino');
  const { PrometheusModule } = await import('@willsoto/nestjs-prometheus');
  const { pino } = await import('pino');
  const lib = await import('@tracing-ws/nestjs');

  class Gateway {
    broadcaster;
    handleConnection(client) {
      this.broadcaster.join(client, 'all');
    }
    publish(_client, data) {
      this.broadcaster.toRoom('all').emit('tick', data);
    }
  }
  SubscribeMessage('publish')(Gateway.prototype, 'publish', Object.getOwnPropertyDescriptor(Gateway.prototype, 'publish'));
  WebSocketGateway({ path: '/ws' })(Gateway);
  class AppModule {}
  Module({
    imports: [
      LoggerModule.forRoot({ pinoHttp: [{ level: 'info', mixin: lib.wsLogMixin }, pino.destination({ dest: '/dev/null', sync: false })] }),
      PrometheusModule.register({ defaultMetrics: { enabled: false } }),
      lib.TracingWsModule.forRoot({ broadcast: { instanceId, redis: { url: redisUrl } }, maxConnectionsPerIp: 0 }),
    ],
    providers: [Gateway],
  })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  app.useWebSocketAdapter(new lib.TracingWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  app.get(Gateway).broadcaster = app.get(lib.WsBroadcaster);
  process.on('message', async (msg) => {
    if (msg.cmd === 'stats') process.send({ id: msg.id, cpu: process.cpuUsage(), rss: process.memoryUsage().rss, spans });
    if (msg.cmd === 'exit') {
      await Promise.race([app.close().then(() => sdk.shutdown()), sleep(5000)]);
      process.exit(0);
    }
  });
  process.send({ ready: true, port: app.getHttpServer().address().port });
}

// ---------------------------------------------------------------- the run
function args() {
  const out = { conns: 5000, rate: 2, duration: 10, warmup: 3, sample: 200, json: undefined };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in out)) throw new Error(`unknown option --${key}`);
    out[key] = key === 'json' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function startInstance(id, redisUrl) {
  const child = fork(new URL(import.meta.url).pathname, ['server', id, redisUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let next = 0;
  const ask = (cmd) =>
    new Promise((resolve) => {
      const msgId = ++next;
      const on = (m) => m.id === msgId && (child.off('message', on), resolve(m));
      child.on('message', on);
      child.send({ cmd, id: msgId });
    });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (m) => (m.ready ? resolve(m.port) : reject(new Error(String(m)))));
    child.once('exit', (code) => reject(new Error(`instance ${id} exited with ${code}`)));
  });
  return { child, ready, ask };
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function openAll(WebSocket, url, count, onFrame) {
  const sockets = [];
  const batch = 200; // handshakes in flight
  for (let i = 0; i < count; i += batch) {
    const opened = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
      ws.on('message', (data) => onFrame(j, data));
      sockets.push(ws);
      opened.push(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject))));
    }
    await Promise.all(opened);
  }
  return sockets;
}

async function main() {
  const o = args();
  const { WebSocket } = await import('ws');
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  await sleep(300);
  const instances = { a: startInstance('bench-a', redisUrl), b: startInstance('bench-b', redisUrl) };
  const ports = { a: await instances.a.ready, b: await instances.b.ready };
  try {
    // Per instance: frames counted in the window, and latencies of the sampled receivers.
    const counts = { a: 0, b: 0 };
    const latencies = { a: [], b: [] };
    let measuring = false;
    const receiver = (side) => (index, data) => {
      if (!measuring) return;
      counts[side]++;
      if (index < o.sample) latencies[side].push(performance.now() - JSON.parse(data).data.t);
    };
    const t0 = performance.now();
    await openAll(WebSocket, `ws://127.0.0.1:${ports.a}/ws`, o.conns, receiver('a'));
    await openAll(WebSocket, `ws://127.0.0.1:${ports.b}/ws`, o.conns, receiver('b'));
    console.log(`${2 * o.conns} connections open in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const publisher = await openAll(WebSocket, `ws://127.0.0.1:${ports.a}/ws`, 1, () => {});
    let published = 0;
    const interval = 1000 / o.rate;
    const publishFor = async (ms) => {
      const start = performance.now();
      for (let k = 0; performance.now() - start < ms; k++) {
        publisher[0].send(JSON.stringify({ event: 'publish', data: { t: performance.now() } }));
        if (measuring) published++;
        const due = start + (k + 1) * interval;
        await sleep(Math.max(0, due - performance.now()));
      }
    };
    await publishFor(o.warmup * 1000);
    await sleep(500);
    const before = { a: await instances.a.ask('stats'), b: await instances.b.ask('stats') };
    measuring = true;
    const windowStart = performance.now();
    await publishFor(o.duration * 1000);
    // Let the last publications arrive (bounded): every frame of the window counts.
    const expected = () => published * o.conns;
    for (let waited = 0; (counts.a < expected() || counts.b < expected()) && waited < 5000; waited += 50) await sleep(50);
    const seconds = (performance.now() - windowStart) / 1000;
    measuring = false;
    const after = { a: await instances.a.ask('stats'), b: await instances.b.ask('stats') };
    const cpuMs = (side) => (after[side].cpu.user + after[side].cpu.system - before[side].cpu.user - before[side].cpu.system) / 1000;
    const result = { options: o, published, seconds: Number(seconds.toFixed(2)), loadavg1: Number(loadavg()[0].toFixed(2)) };
    for (const side of ['a', 'b']) {
      const sorted = latencies[side].sort((x, y) => x - y);
      result[side] = {
        deliveries: counts[side],
        expected: expected(),
        deliveriesPerSecond: Math.round(counts[side] / seconds),
        latencyMs: { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)), samples: sorted.length },
        serverCpuMs: Math.round(cpuMs(side)),
        serverCpuUsPerDelivery: Number(((cpuMs(side) * 1000) / Math.max(1, counts[side])).toFixed(2)),
        rssMb: Math.round(after[side].rss / 2 ** 20),
        spans: after[side].spans,
      };
    }
    console.log(`published ${published} in ${result.seconds} s (${o.rate}/s), room of ${2 * o.conns} (${o.conns} per instance), load average ${result.loadavg1}`);
    console.log('instance           deliveries  /s        p50 ms  p99 ms  server CPU µs/delivery  RSS MB');
    for (const [side, label] of [['a', 'A (publisher, local)'], ['b', 'B (across Redis)']]) {
      const r = result[side];
      console.log(`${label.padEnd(19)}${`${r.deliveries}/${r.expected}`.padEnd(12)}${String(r.deliveriesPerSecond).padEnd(10)}${String(r.latencyMs.p50).padEnd(8)}${String(r.latencyMs.p99).padEnd(8)}${String(r.serverCpuUsPerDelivery).padEnd(24)}${r.rssMb}`);
    }
    if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2));
    for (const ws of publisher) ws.terminate();
  } finally {
    await Promise.all([instances.a.ask('exit'), instances.b.ask('exit')].map((p) => Promise.race([p, sleep(6000)])));
    for (const i of Object.values(instances)) i.child.kill();
    redis.kill();
  }
  process.exit(0);
}

if (process.argv[2] === 'server') await serve(process.argv[3], process.argv[4]);
else await main();
