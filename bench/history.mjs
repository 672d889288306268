// Room broadcast throughput and latency with the room history off, in memory, and in
// Redis Streams (issue 16). Each mode runs its own server process (this file, forked
// with `server <mode>`), with SUBS subscribers of one room on loopback.
//
//   npm run build && sh scripts/node.sh bench/history.mjs [--runs 3] [--subs 50] [--burst 20000]
//
// throughput: the server emits `burst` room broadcasts as fast as it can (100 per
// turn); the figure is deliveries per second until every subscriber has them all.
// latency: 1,000 broadcasts a second for 2 s; publish (emit) to receipt by one
// subscriber, p50 / p99 (with Redis this includes the script's round trip, since local
// members get a numbered broadcast back from the channel).
import { fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === 'server') {
  await serve(process.argv[3], process.env.REDIS_URL);
} else {
  await main();
}

async function serve(mode, redisUrl) {
  await import('reflect-metadata');
  const { Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { SubscribeMessage, WebSocketGateway } = await import('@nestjs/websockets');
  const { PrometheusModule } = await import('@willsoto/nestjs-prometheus');
  const { TracedGateway, TracingWsAdapter, TracingWsModule, WsBroadcaster } = await import('@tracing-ws/nestjs');
  class Gateway {
    constructor(broadcaster) {
      this.broadcaster = broadcaster;
    }
    join(client, data) {
      this.broadcaster.join(client, data.room);
      return { event: 'joined', data };
    }
  }
  Reflect.defineMetadata('design:paramtypes', [WsBroadcaster], Gateway);
  const d = Object.getOwnPropertyDescriptor(Gateway.prototype, 'join');
  Object.defineProperty(Gateway.prototype, 'join', Reflect.decorate([SubscribeMessage('join')], Gateway.prototype, 'join', d));
  Reflect.decorate([TracedGateway(), WebSocketGateway({ path: '/ws' })], Gateway);
  const broadcast = {
    ...(mode === 'off' ? {} : { history: { size: 1000 } }),
    ...(redisUrl ? { redis: { url: redisUrl, keyPrefix: `bench-${process.pid}:`, maxInFlightPublishes: 100000, staleAfterMs: 0 } } : {}),
  };
  class AppModule {}
  Reflect.decorate([Module({ imports: [PrometheusModule.register(), TracingWsModule.forRoot({ broadcast, rateLimit: { messagesPerSecond: 0 } })], providers: [Gateway] })], AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  app.useWebSocketAdapter(new TracingWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const broadcaster = app.get(WsBroadcaster);
  if (redisUrl) while (!broadcaster.backend.up) await new Promise((r) => setTimeout(r, 20));
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (m) => {
    if (m.cmd === 'burst') {
      for (let i = 0; i < m.n; i += 100) {
        for (let j = i; j < Math.min(m.n, i + 100); j++) broadcaster.toRoom('bench').emit('said', { j });
        await new Promise((r) => setImmediate(r));
      }
    } else if (m.cmd === 'paced') {
      const start = now();
      for (let j = 0; j < m.n; j++) {
        const due = start + (j * 1000) / m.rate;
        while (now() < due) await new Promise((r) => setTimeout(r, 1));
        broadcaster.toRoom('bench').emit('said', { j, t: now() });
      }
    }
    process.send({ type: 'done' });
  });
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
}

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, subs: { type: 'string', default: '50' }, burst: { type: 'string', default: '20000' } } });
  const RUNS = Number(values.runs);
  const SUBS = Number(values.subs);
  const BURST = Number(values.burst);
  const redisPort = await new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => redis.stdout.on('data', (c) => String(c).includes('Ready to accept') && resolve()));
  process.once('exit', () => redis.kill('SIGKILL'));
  const modes = [
    ['off', undefined],
    ['memory', undefined],
    ['redis-off', `redis://127.0.0.1:${redisPort}`],
    ['redis', `redis://127.0.0.1:${redisPort}`],
  ];
  const results = {};
  for (let run = 1; run <= RUNS; run++) {
    for (const [mode, url] of modes) {
      const r = await measure(mode === 'redis-off' ? 'off' : mode, url, SUBS, BURST);
      (results[mode] ??= []).push(r);
      console.log(`run ${run} ${mode.padEnd(9)} throughput ${Math.round(r.throughput)} deliveries/s, latency p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = (mode, key) => median(results[mode].map((r) => r[key]));
  console.log(`\nmedians of ${RUNS} runs, ${SUBS} subscribers, burst ${BURST}:`);
  for (const [mode] of modes) console.log(`  ${mode.padEnd(9)} ${Math.round(m(mode, 'throughput'))} deliveries/s, p50 ${m(mode, 'p50').toFixed(2)} ms, p99 ${m(mode, 'p99').toFixed(2)} ms`);
  console.log(`  in-memory history / off: ${(m('memory', 'throughput') / m('off', 'throughput')).toFixed(3)}`);
  console.log(`  Redis Streams history / Redis without history: ${(m('redis', 'throughput') / m('redis-off', 'throughput')).toFixed(3)}`);
  redis.kill('SIGKILL');
  process.exit(0);
}

async function measure(mode, redisUrl, subs, burst) {
  // The server's log lines are not wanted here (and must not block on a full pipe).
  const child = fork(new URL(import.meta.url).pathname, ['server', mode], { env: { ...process.env, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)));
  const command = (msg) => new Promise((resolve) => (child.once('message', resolve), child.send(msg)));
  const sockets = [];
  let counts = [];
  const latencies = [];
  for (let i = 0; i < subs; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise((resolve) => ws.once('open', resolve));
    const index = i;
    ws.on('message', (raw) => {
      const text = String(raw);
      if (!text.startsWith('{"event":"said"')) return;
      counts[index]++;
      if (index === 0 && text.includes('"t":')) latencies.push(now() - JSON.parse(text).data.t);
    });
    ws.send(JSON.stringify({ event: 'join', data: { room: 'bench' } }));
    sockets.push(ws);
  }
  await new Promise((r) => setTimeout(r, 300));
  counts = sockets.map(() => 0);
  // Warm-up, then the measured burst.
  await command({ cmd: 'burst', n: 2000 });
  while (counts.some((c) => c < 2000)) await new Promise((r) => setTimeout(r, 5));
  // Latency first, on an idle server; then the measured burst.
  await command({ cmd: 'paced', n: 2000, rate: 1000 });
  await new Promise((r) => setTimeout(r, 200));
  counts = sockets.map(() => 0);
  const started = now();
  await command({ cmd: 'burst', n: burst });
  while (counts.some((c) => c < burst)) await new Promise((r) => setImmediate(r));
  const throughput = (burst * subs) / ((now() - started) / 1000);
  const sorted = latencies.sort((a, b) => a - b);
  for (const ws of sockets) ws.terminate();
  child.kill('SIGKILL');
  return { throughput, p50: sorted[Math.floor(sorted.length * 0.5)], p99: sorted[Math.floor(sorted.length * 0.99)] };
}
