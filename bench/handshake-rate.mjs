// Handshake rate as connections accumulate, against the resilience fixture app
// (TracingWsModule defaults), loopback only, bounded in count:
//
//   sh scripts/node.sh bench/handshake-rate.mjs [connections=12000] [--with-sdk]
//
// Prints the opening rate per 1,000 connections, so a rate that falls as the
// count grows (work per handshake that scales with open connections) shows.
// --with-sdk preloads the OpenTelemetry NodeSDK with a BatchSpanProcessor.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';

const root = join(import.meta.dirname, '..');
const N = Math.min(Number(process.argv[2] ?? 12000), 15000);
const withSdk = process.argv.includes('--with-sdk');
const server = spawn(
  process.execPath,
  [...(withSdk ? ['--import', join(root, 'bench', 'sdk-preload.mjs')] : []), join(root, 'test', 'fixtures', 'resilience-app.mjs')],
  { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] },
);
process.once('exit', () => server.kill('SIGKILL'));
let buf = '';
const port = await new Promise((resolve, reject) => {
  setTimeout(() => reject(new Error('server did not start in 20 s')), 20000).unref();
  // Its log lines are read (and dropped) for the whole run, so its stdout never blocks.
  server.stdout.on('data', (c) => {
    if (buf === null) return;
    buf += c;
    const m = /"port":(\d+)/.exec(buf);
    if (m) {
      buf = null;
      resolve(Number(m[1]));
    }
  });
});
const sockets = [];
let opened = 0;
let t0 = performance.now();
const open = (i) =>
  new Promise((resolve) => {
    // Several loopback source addresses, so ephemeral ports do not run short.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/r`, { localAddress: `127.0.0.${1 + (i % 4)}`, perMessageDeflate: false, handshakeTimeout: 10000 });
    const done = () => {
      if (++opened % 1000 === 0) {
        const t = performance.now();
        console.log(`${opened}: ${Math.round(1000 / ((t - t0) / 1000))}/s`);
        t0 = t;
      }
      resolve();
    };
    ws.once('open', () => (sockets.push(ws), done()));
    ws.once('error', (e) => (console.log(`error: ${e.message}`), done()));
  });
let next = 0;
await Promise.all(Array.from({ length: 100 }, async () => { while (next < N) await open(next++); }));
for (const s of sockets) s.terminate();
process.exit(0);
