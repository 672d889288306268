// Load generator, run in a worker thread of bench/run.mjs (never in the server's
// process). Loopback only; every loop is bounded in time (the parent's phases plus a
// hard deadline) and in count (connections, in-flight messages per connection).
//
// workerData: { url, transport, connections, firstIndex, localAddresses, mode, ... } (see below)
// transport 'ws': the `ws` client, JSON frames {event, data}; 'io': socket.io-client on its
// websocket transport, `emit('echo', data, ack)`, the acknowledgement is the reply.
// Messages from the parent: 'go' (start sending), 'reset' (clear stats, start the
// measured window), 'report' (post stats), 'stop' (stop sending, close, exit).

import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { io } from 'socket.io-client';

const {
  url, // ws://127.0.0.1:<port>/ws
  transport = 'ws', // 'ws' | 'io' (socket.io-client; url's path is the engine path)
  connections, // sockets this worker opens
  firstIndex = 0, // global index of this worker's first socket
  localAddresses = ['127.0.0.1'],
  mode = 'closed', // 'closed': `inflight` per connection; 'open': fixed `rate` msgs/s; 'idle': just hold sockets
  inflight = 10,
  rate = 0, // open mode: msgs/s for this worker
  payloadBytes = 64,
  workload = 'echo', // 'echo' | 'broadcast'
  groupSize = 10, // broadcast: connections per group
  totalConnections = connections, // broadcast: sockets of all workers (the last group may be smaller)
  connectConcurrency = 100,
  deadlineMs = 10 * 60_000,
} = workerData;

const hardStop = setTimeout(() => process.exit(4), deadlineMs);
hardStop.unref();

// ---- latency histogram: 1 µs buckets to 100 ms, then 1 ms buckets to 120 s
const FINE = 100_000;
const COARSE = 120_000;
let hist = new Uint32Array(FINE + COARSE + 1);
function record(ms) {
  const us = Math.max(0, Math.round(ms * 1000)); // ≥ 0: clocks of two worker threads may differ by a few µs
  if (us < FINE) hist[us]++;
  else hist[Math.min(FINE + Math.floor((us - FINE) / 1000), FINE + COARSE)]++;
}

// ---- frames: one pre-serialised frame per connection (payload padded to size)
const pad = 'x'.repeat(Math.max(0, payloadBytes - 40));
// Broadcast, open loop: a frame per publish carrying its send time `t` (ms since the epoch, µs
// resolution: performance.timeOrigin + now(), comparable across the load worker threads), so
// that every member's copy gives a publish-to-delivery latency. Pad shortened by its length.
const bcastOpen = workload === 'broadcast' && mode === 'open' && transport === 'ws';
const padT = 'x'.repeat(Math.max(0, payloadBytes - 40 - 22));
const epochNow = () => performance.timeOrigin + performance.now();
// Members of the group of the connection with global index i (the servers: `?g=` groupOf).
const groupSizeOf = (i) => Math.min(groupSize, totalConnections - Math.floor(i / groupSize) * groupSize);
function frameFor(index) {
  if (transport === 'io') return { c: index, pad }; // socket.io serialises it (≈ the same bytes)
  if (workload === 'broadcast') return JSON.stringify({ event: 'broadcast', data: { c: index, pad } });
  return JSON.stringify({ event: 'echo', data: { c: index, pad } });
}

let running = false;
let sent = 0;
let replies = 0; // replies to our own messages (round trips)
let deliveries = 0; // every frame received (broadcast fan-out)
let expected = 0; // broadcast: deliveries the publishes sent ask for (Σ group size of the sender)
let errors = 0;
let closedEarly = 0;
let opened = 0;
let failedOpen = 0;
const socks = [];

// Open loop: up to 8192 own messages outstanding per connection (broadcast: 256, as it runs
// with up to 5,000 sockets at a few publishes per second each; 256 is seconds of backlog).
const RING = mode === 'open' ? (workload === 'broadcast' ? 256 : 8192) : Math.max(2, inflight);
class Conn {
  constructor(index) {
    this.index = index;
    this.frame = frameFor(index);
    this.members = groupSizeOf(index);
    this.ring = new Float64Array(RING);
    this.head = 0;
    this.tail = 0;
    this.ws = undefined;
    // socket.io: acknowledgements come back in order on one connection (one handler, no await)
    this.ack = () => {
      deliveries++;
      this.onOwnReply();
    };
  }
  get outstanding() {
    return this.tail - this.head;
  }
  send() {
    if (this.tail - this.head >= RING) return false;
    this.ring[this.tail++ % RING] = performance.now();
    if (transport === 'io') this.ws.emit('echo', this.frame, this.ack);
    else if (bcastOpen) {
      this.ws.send(`{"event":"broadcast","data":{"c":${this.index},"t":${epochNow().toFixed(3)},"pad":"${padT}"}}`);
      expected += this.members;
    } else this.ws.send(this.frame);
    sent++;
    return true;
  }
  onOwnReply(recordRoundTrip = true) {
    if (this.head === this.tail) return;
    const t = this.ring[this.head++ % RING];
    replies++;
    if (recordRoundTrip) record(performance.now() - t);
    if (mode === 'closed' && running) this.send();
  }
}

function onMessage(data) {
  deliveries++;
  const conn = this.benchConn;
  if (workload === 'broadcast') {
    // Own broadcasts come back in order among the group's frames: find them by sender.
    const text = data.toString();
    const at = text.indexOf('"c":');
    if (bcastOpen) {
      // Every member's copy: latency from its publish (the histogram holds deliveries, not round trips).
      const ta = text.indexOf('"t":', at);
      if (ta >= 0) record(epochNow() - Number.parseFloat(text.slice(ta + 4)));
    }
    if (at < 0 || Number.parseInt(text.slice(at + 4), 10) !== conn.index) return;
    conn.onOwnReply(!bcastOpen);
    return;
  }
  conn.onOwnReply();
}

// Handshake latency: from the client's first call to 'open' (ws) / 'connect' (socket.io), ms.
const handshakeMs = [];
function open(index) {
  const conn = new Conn(index);
  const local = localAddresses[index % localAddresses.length];
  const t0 = performance.now();
  if (transport === 'io') return openIo(conn, local, t0);
  const target = workload === 'broadcast' ? `${url}?g=${Math.floor(index / groupSize)}` : url;
  return new Promise((resolve) => {
    const ws = new WebSocket(target, { localAddress: local, perMessageDeflate: false, handshakeTimeout: 30_000 });
    conn.ws = ws;
    ws.benchConn = conn;
    ws.once('open', () => {
      handshakeMs.push(performance.now() - t0);
      opened++;
      socks.push(conn);
      resolve();
    });
    ws.on('message', onMessage);
    ws.on('error', () => {
      errors++;
    });
    ws.once('close', () => {
      if (running || mode === 'idle') closedEarly++;
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => {
      failedOpen++;
      res.resume();
      ws.terminate?.();
      resolve();
    });
  });
}

function openIo(conn, local, t0) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = io(`http://${u.host}`, {
      path: u.pathname,
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      localAddress: local,
      perMessageDeflate: false,
      timeout: 30_000,
    });
    conn.ws = socket;
    let settled = false;
    socket.once('connect', () => {
      handshakeMs.push(performance.now() - t0);
      opened++;
      socks.push(conn);
      settled = true;
      resolve();
    });
    socket.once('connect_error', () => {
      failedOpen++;
      socket.close();
      if (!settled) resolve();
      settled = true;
    });
    socket.once('disconnect', () => {
      if (running || mode === 'idle') closedEarly++;
      if (!settled) resolve();
      settled = true;
    });
  });
}

async function connectAll() {
  const t0 = performance.now();
  let next = 0;
  const runner = async () => {
    while (next < connections) await open(firstIndex + next++);
  };
  await Promise.all(Array.from({ length: Math.min(connectConcurrency, connections) }, runner));
  return performance.now() - t0;
}

// ---- open loop: send at a fixed total rate, round-robin over connections
let openTimer;
let skipped = 0; // open loop: sends skipped because a connection had RING messages outstanding
function startOpenLoop() {
  const t0 = performance.now();
  let due = 0;
  let rr = 0;
  const tick = () => {
    if (!running) return;
    const target = Math.floor(((performance.now() - t0) * rate) / 1000);
    let n = Math.min(target - due, 5000); // bounded burst after a stall
    due = target;
    while (n-- > 0 && socks.length) {
      const c = socks[rr++ % socks.length];
      if (!c.send()) skipped++;
    }
    openTimer = setTimeout(tick, 1);
  };
  tick();
}

function threadCpuSince(start) {
  const now = process.threadCpuUsage();
  return now.user + now.system - start.user - start.system;
}

let windowStart = performance.now();
let eluStart = performance.eventLoopUtilization();
// This thread's own CPU time over the window: the load generator does the same work per message
// in every scenario, so its CPU per message is the host's speed in that window (bench/run.mjs).
let cpuStart = process.threadCpuUsage();
function snapshot() {
  let outstanding = 0;
  for (const c of socks) outstanding += c.outstanding;
  return {
    sent,
    skipped,
    replies,
    deliveries,
    expected,
    errors,
    closedEarly,
    opened,
    failedOpen,
    outstanding,
    windowMs: performance.now() - windowStart,
    // how busy this load generator was (1 = saturated: the numbers are client-bound)
    clientElu: performance.eventLoopUtilization(eluStart).utilization,
    clientCpuUs: threadCpuSince(cpuStart),
    hist,
  };
}

parentPort.on('message', async (msg) => {
  if (msg === 'go') {
    running = true;
    if (mode === 'closed') for (const c of socks) for (let i = 0; i < inflight; i++) c.send();
    else if (mode === 'open') startOpenLoop();
  } else if (msg === 'reset') {
    sent = replies = deliveries = expected = errors = skipped = 0;
    hist = new Uint32Array(FINE + COARSE + 1);
    windowStart = performance.now();
    eluStart = performance.eventLoopUtilization();
    cpuStart = process.threadCpuUsage();
  } else if (msg === 'report') {
    const s = snapshot();
    parentPort.postMessage({ type: 'report', ...s }, [s.hist.buffer]);
    hist = new Uint32Array(FINE + COARSE + 1);
  } else if (msg === 'stop') {
    running = false;
    clearTimeout(openTimer);
    for (const c of socks) closeConn(c);
    setTimeout(() => process.exit(0), 50);
  } else if (msg === 'close-all') {
    // Close every socket from the client side (the server sees a normal close: close spans).
    running = false;
    for (const c of socks) closeConn(c, true);
    parentPort.postMessage({ type: 'closed', count: socks.length });
  }
});

function closeConn(c, graceful = false) {
  if (transport === 'io') c.ws.disconnect();
  else if (graceful) c.ws.close(1000);
  else c.ws.terminate();
}

const eluOpen = performance.eventLoopUtilization();
const connectMs = await connectAll();
const connectElu = performance.eventLoopUtilization(eluOpen).utilization;
const hs = Float64Array.from(handshakeMs);
parentPort.postMessage({ type: 'connected', opened, failedOpen, errors, connectMs, connectElu, handshakeMs: hs }, [hs.buffer]);

export { FINE, COARSE };
