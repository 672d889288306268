// One benchmark server scenario, run as its own child process (fork with IPC).
//
//   node bench/server.mjs <scenario>      scenario 1..12 (see SCENARIOS in run.mjs)
//   (scenario 6 = scenario 3 and scenario 15 = scenario 8 with the library built at BENCH_BASELINE_LIB, an index.js path;
//    7 = bare NestJS on @nestjs/platform-socket.io's stock IoAdapter; 8 = the module on
//    socket.io, TracingIoAdapter from the built library's `socket.io` entry point, defaults as 3;
//    9 = as 3 with `metrics.exemplars: false`)
//
// Listens on 127.0.0.1:0, gateway path /ws (socket.io: the engine path), then reports
// {type:'ready', port} over IPC.
// IPC commands from the parent (each answered with {type:'reply', id, ...}):
//   {cmd:'stats'}                 cpu (process.cpuUsage, µs; main thread: process.threadCpuUsage), rss, heap, messages counted,
//                                 GCs so far (scavenges, mark-compacts, pause ms) and the young generation's size
//   {cmd:'gc'}                    full GC (needs --expose-gc), then stats
//   {cmd:'heap-snapshot', file}   full GC, stats, then v8.writeHeapSnapshot(file) (conn-memory.mjs)
//   {cmd:'heartbeat', intervalMs} start (intervalMs > 0) or stop (0) pinging every client
//   {cmd:'exit'}                  closes the app and exits (so --cpu-prof writes its profile)
// BENCH_EXEMPLARS=on|off sets metrics.exemplars of the module scenarios (3-6, 8; unset: the
// library's default, on; scenario 9 is always off), to measure exemplars on vs off with the same run.mjs command:
//   BENCH_EXEMPLARS=off sh scripts/node.sh bench/run.mjs --scenarios 3,5 ...; then =on.
// BENCH_ADMIN=off|on|watch (module scenarios 3-5, 8, 9; unset: off) mounts TracingWsAdminModule
// (on: watch-capable, nobody watches: the per-message cost is one boolean read; watch: a
// live trace is open on a user none of the bench clients is, so every message takes the
// tap's lookups and finds no watcher), to compare server CPU per message in one run.mjs command each:
//   BENCH_ADMIN=off sh scripts/node.sh bench/run.mjs --scenarios 3 ...; then =on, then =watch.
// The server never outlives its parent: it exits when the IPC channel closes, and after
// BENCH_SERVER_MAX_MS (default 15 min) whatever happens.

import { createServer } from 'node:http';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';

const scenario = Number(process.argv[2]);
// Scenarios 6 and 15 load the library from another build (BENCH_BASELINE_LIB).
const onBaseline = scenario === 6 || scenario === 15;
if (!(Number.isInteger(scenario) && scenario >= 1 && scenario <= 15) || (onBaseline && !process.env.BENCH_BASELINE_LIB)) {
  console.error('usage: server.mjs <1..15> (6 and 15 need BENCH_BASELINE_LIB)');
  process.exit(2);
}
const EXEMPLARS = process.env.BENCH_EXEMPLARS;
if (EXEMPLARS !== undefined && EXEMPLARS !== 'on' && EXEMPLARS !== 'off') {
  console.error('BENCH_EXEMPLARS must be on or off');
  process.exit(2);
}
// Scenarios 10 and 11 are scenario 3 with the admin surface on / watching, so that both run in one run.mjs command.
const ADMIN = scenario === 10 ? 'on' : scenario === 11 ? 'watch' : (process.env.BENCH_ADMIN ?? 'off');
if (!['off', 'on', 'watch'].includes(ADMIN)) {
  console.error('BENCH_ADMIN must be off, on or watch');
  process.exit(2);
}
const LOG_FILE = process.env.BENCH_LOG_FILE ?? '/tmp/tracing-ws-bench-s4.log';
const maxLife = setTimeout(() => process.exit(3), Number(process.env.BENCH_SERVER_MAX_MS ?? 15 * 60_000));
maxLife.unref();
process.on('disconnect', () => process.exit(0));

let received = 0; // frames counted by the server (raw ws only; Nest counts are the client's)
let clientsOf = () => new Set();
let closeServer = async () => {};

// ---------------------------------------------------------------- heartbeat
// The bench runs the standard ws ping/pong loop itself, identically for every scenario
// (raw ws and bare Nest have none of their own), so that all pay the same heartbeat.
let heartbeatTimer;
let heartbeatRounds = 0;
let heartbeatTerminated = 0;
function onPong() {
  this.benchAlive = true;
}
function armHeartbeat(socket) {
  socket.benchAlive = true;
  socket.on('pong', onPong);
}
function setHeartbeat(intervalMs) {
  clearInterval(heartbeatTimer);
  heartbeatTimer = undefined;
  if (!(intervalMs > 0)) return;
  heartbeatTimer = setInterval(() => {
    heartbeatRounds++;
    for (const socket of clientsOf()) {
      if (socket.benchAlive === false) {
        heartbeatTerminated++;
        socket.terminate();
        continue;
      }
      socket.benchAlive = false;
      socket.ping();
    }
  }, intervalMs);
}

// ---------------------------------------------------------------- broadcast groups
// `?g=<n>` puts a connection in group n; a `broadcast` frame goes to its whole group.
function groupOf(req) {
  const q = req?.url?.indexOf('?g=') ?? -1;
  return q < 0 ? '0' : req.url.slice(q + 3);
}

// ---------------------------------------------------------------- scenario 1: raw ws
async function startRaw() {
  const { WebSocketServer } = await import('ws');
  const http = createServer((_req, res) => res.end());
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const groups = new Map();
  wss.on('connection', (socket, req) => {
    armHeartbeat(socket);
    const g = groupOf(req);
    let set = groups.get(g);
    if (!set) groups.set(g, (set = new Set()));
    set.add(socket);
    socket.on('close', () => set.delete(socket));
    socket.on('message', (raw) => {
      received++;
      let frame;
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return;
      }
      if (frame.event === 'echo') socket.send(JSON.stringify({ event: 'echo', data: frame.data }));
      else if (frame.event === 'broadcast') {
        const text = JSON.stringify({ event: 'broadcast', data: frame.data });
        for (const peer of set) if (peer.readyState === 1) peer.send(text);
      }
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  clientsOf = () => wss.clients;
  closeServer = async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => http.close(r));
  };
  return http.address().port;
}

// ---------------------------------------------------------------- scenarios 2-5: Nest
async function startTelemetry(ratio, maxExportBatchSize) {
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  process.env.OTEL_TRACES_EXPORTER ??= 'none';
  process.env.OTEL_SERVICE_NAME ??= 'tracing-ws-bench';
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, AlwaysOnSampler } = await import('@opentelemetry/sdk-trace');
  let exported = 0;
  const exporter = {
    export(spans, done) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
  const root = ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio);
  const sdk = new NodeSDK({
    instrumentations: [],
    sampler: new ParentBasedSampler({ root }),
    spanProcessors: [new BatchSpanProcessor({ exporter, ...(maxExportBatchSize ? { maxExportBatchSize } : {}) })],
  });
  sdk.start();
  return { sdk, exported: () => exported };
}

async function startNest() {
  // Scenario 14 is scenario 2 in a second process (the A/A control of the run).
  const withModule = scenario >= 3 && scenario !== 7 && scenario !== 14;
  const onIo = scenario === 7 || scenario === 8 || scenario === 15;
  // Scenario 13: the BatchSpanProcessor exports every 128 finished spans instead of 512
  // (BENCH_BSP_BATCH=N tries another size), so that spans die young (bench/RESULTS.md).
  const batch = scenario === 13 ? Number(process.env.BENCH_BSP_BATCH ?? 128) : undefined;
  const telemetry = withModule ? await startTelemetry(scenario === 5 ? 0.1 : 1, batch) : undefined;
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { Module } = await import('@nestjs/common');
  const { WebSocketGateway, SubscribeMessage, WebSocketServer } = await import('@nestjs/websockets');

  let lib;
  // Scenario 6: the same module set-up as 3, on another build of the library (before/after a change).
  const baseline = onBaseline ? pathToFileURL(process.env.BENCH_BASELINE_LIB) : undefined;
  if (withModule) lib = await import(baseline ? baseline.href : '@tracing-ws/nestjs');
  // The socket.io entry of the same build (scenario 15: of the baseline build, next to its index.js).
  const ioLib = scenario === 8 ? await import('@tracing-ws/nestjs/socket.io') : scenario === 15 ? await import(new URL('transports/socket.io/index.js', baseline).href) : undefined;

  // The gateway, decorated programmatically (no TS build step for the bench).
  class BenchGateway {
    server; // the ws WebSocketServer of the gateway (set by Nest)
    broadcaster; // WsBroadcaster, module scenarios only
    groups = new Map(); // bare scenario's rooms
    handleConnection(client, req) {
      armHeartbeat(client);
      const g = groupOf(req);
      if (this.broadcaster) {
        this.broadcaster.join(client, `g${g}`);
        client.benchRoom = `g${g}`;
        return;
      }
      let set = this.groups.get(g);
      if (!set) this.groups.set(g, (set = new Set()));
      set.add(client);
      client.benchGroup = set;
    }
    handleDisconnect(client) {
      client.benchGroup?.delete(client);
    }
    echo(_client, data) {
      // socket.io: the returned value is the acknowledgement (an {event, data} would be emitted instead)
      return onIo ? data : { event: 'echo', data };
    }
    broadcast(client, data) {
      if (this.broadcaster) {
        this.broadcaster.toRoom(client.benchRoom).emit('broadcast', data);
        return undefined;
      }
      const text = JSON.stringify({ event: 'broadcast', data });
      for (const peer of client.benchGroup) if (peer.readyState === 1) peer.send(text);
      return undefined;
    }
  }
  for (const name of ['echo', 'broadcast']) {
    const descriptor = Object.getOwnPropertyDescriptor(BenchGateway.prototype, name);
    SubscribeMessage(name)(BenchGateway.prototype, name, descriptor);
  }
  WebSocketServer()(BenchGateway.prototype, 'server');
  WebSocketGateway({ path: '/ws' })(BenchGateway);

  const imports = [];
  let pinoDestination;
  if (withModule) {
    const { LoggerModule } = await import('nestjs-pino');
    const { PrometheusModule } = await import('@willsoto/nestjs-prometheus');
    const { pino } = await import('pino');
    // Scenario 4 writes every message line to a real file; the others to /dev/null
    // (at level info the per-message debug line is never built).
    pinoDestination = pino.destination({ dest: scenario === 4 ? LOG_FILE : '/dev/null', sync: false, minLength: 4096 });
    imports.push(
      LoggerModule.forRoot({ pinoHttp: [{ level: 'info', mixin: lib.wsLogMixin }, pinoDestination] }),
      PrometheusModule.register({ defaultMetrics: { enabled: false } }),
      lib.TracingWsModule.forRoot({
        ...(scenario === 4 ? { messageLogLevel: 'info' } : {}),
        // Scenario 12: every room broadcast is numbered and kept (defaults: 100 per room, 5 min).
        ...(scenario === 12 ? { broadcast: { history: {} } } : {}),
        ...(scenario === 9 ? { metrics: { exemplars: false } } : EXEMPLARS === undefined ? {} : { metrics: { exemplars: EXEMPLARS === 'on' } }),
      }),
    );
    // Loopback only, and the bench's own process: no credential to check.
    if (ADMIN !== 'off' && lib.TracingWsAdminModule) imports.push(lib.TracingWsAdminModule.forRoot({ canActivate: () => true, maxWatchMs: 3_600_000 }));
  }
  class BenchModule {}
  Module({ imports, providers: [BenchGateway] })(BenchModule);

  const app = await NestFactory.create(BenchModule, withModule ? { bufferLogs: true } : { logger: ['error', 'warn'] });
  if (withModule) {
    const { Logger } = await import('nestjs-pino');
    app.useLogger(app.get(Logger));
    app.useWebSocketAdapter(onIo ? new ioLib.TracingIoAdapter(app) : new lib.TracingWsAdapter(app));
  } else if (onIo) {
    const { IoAdapter } = await import('@nestjs/platform-socket.io');
    app.useWebSocketAdapter(new IoAdapter(app));
  } else {
    const { WsAdapter } = await import('@nestjs/platform-ws');
    app.useWebSocketAdapter(new WsAdapter(app));
  }
  await app.listen(0, '127.0.0.1');
  const gateway = app.get(BenchGateway);
  if (withModule) gateway.broadcaster = app.get(lib.WsBroadcaster);
  // socket.io: the bench's ws ping loop does not apply (socket.io pings on its own); count only.
  clientsOf = onIo ? () => ({ size: gateway.server?.engine?.clientsCount ?? 0, [Symbol.iterator]: function* () {} }) : () => gateway.server?.clients ?? new Set();
  let adminWatch;
  if (withModule && ADMIN === 'watch') {
    adminWatch = new AbortController();
    const port = app.getHttpServer().address().port;
    const res = await fetch(`http://127.0.0.1:${port}/admin/trace?user=bench-nobody`, { signal: adminWatch.signal });
    if (res.status !== 200) throw new Error(`BENCH_ADMIN=watch: the live trace answered ${res.status}`);
    res.body?.pipeTo(new WritableStream()).catch(() => undefined);
  }
  closeServer = async () => {
    if (onIo) gateway.server?.disconnectSockets?.(true);
    else for (const c of clientsOf()) c.terminate();
    adminWatch?.abort();
    await app.close();
    if (telemetry) await telemetry.sdk.shutdown();
    pinoDestination?.flushSync?.();
  };
  extraStats = () => (telemetry ? { spansExported: telemetry.exported() } : {});
  return app.getHttpServer().address().port;
}
let extraStats = () => ({});

// Garbage collections since start, by kind (scavenges of the young generation; mark-compacts,
// incremental steps included), and their pause time on the JS thread: the run reports them per
// window, to tell a process that collects differently from one that runs slower.
const gc = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    else if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR || e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL) gc.major++;
    gc.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });
const youngCapacity = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? NaN;

function stats() {
  const cpu = process.cpuUsage();
  // The main (JS) thread alone; the rest of the process is V8's GC and compiler threads,
  // libuv's pool and the inspector (Node ≥ 23.9).
  const main = process.threadCpuUsage?.() ?? { user: NaN, system: NaN };
  const mem = process.memoryUsage();
  return {
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    mainUser: main.user,
    mainSystem: main.system,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    received,
    clients: clientsOf().size,
    heartbeatRounds,
    heartbeatTerminated,
    gcMinor: gc.minor,
    gcMajor: gc.major,
    gcMs: gc.ms,
    youngBytes: youngCapacity(),
    // libuv: event-loop turns so far and the events they handled.
    loops: performance.nodeTiming.uvMetricsInfo.loopCount,
    uvEvents: performance.nodeTiming.uvMetricsInfo.events,
    now: performance.now(),
    ...extraStats(),
  };
}

let profiler;
process.on('message', async (msg) => {
  const reply = (extra) => process.send({ type: 'reply', id: msg.id, ...extra });
  switch (msg.cmd) {
    case 'stats':
      return reply(stats());
    case 'gc':
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
      globalThis.gc?.();
      return reply(stats());
    case 'heap-snapshot': {
      // Full GC, then a V8 heap snapshot to msg.file (bench/conn-memory.mjs): blocks the
      // process for the seconds it takes. Replies with the stats taken just before it.
      globalThis.gc?.();
      await new Promise((r) => setTimeout(r, 50));
      globalThis.gc?.();
      const s = stats();
      const { writeHeapSnapshot } = await import('node:v8');
      writeHeapSnapshot(msg.file);
      return reply(s);
    }
    case 'heartbeat':
      setHeartbeat(msg.intervalMs);
      return reply(stats());
    case 'profile-start': {
      // The V8 CPU profiler of `node --cpu-prof`, limited to the measured window.
      const { Session } = await import('node:inspector/promises');
      profiler = new Session();
      profiler.connect();
      if (msg.alloc) {
        // Sampling heap profiler, keeping the samples of objects already collected:
        // what the window allocated, not what is still alive at its end.
        await profiler.post('HeapProfiler.enable');
        await profiler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        profiler.alloc = true;
        return reply(stats());
      }
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: msg.intervalUs ?? 500 });
      await profiler.post('Profiler.start');
      return reply(stats());
    }
    case 'profile-stop': {
      const s = stats();
      const { profile } = await profiler.post(profiler.alloc ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      const { writeFileSync } = await import('node:fs');
      writeFileSync(msg.file, JSON.stringify(profile));
      return reply(s);
    }
    case 'exit':
      setHeartbeat(0);
      try {
        await Promise.race([closeServer(), new Promise((r) => setTimeout(r, 5000))]);
      } catch {}
      reply({});
      setTimeout(() => process.exit(0), 20);
      return;
  }
});

const port = scenario === 1 ? await startRaw() : await startNest();
process.send({ type: 'ready', port, pid: process.pid });
