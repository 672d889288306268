// Memory per idle connection, by part (issue 19): the CLS store, what of the handshake span
// stays alive, the library's connection state, the ws WebSocket, the net.Socket, Nest's own
// per-client objects, and the rest, from V8 heap snapshots of the server process.
//
//   sh scripts/node.sh bench/conn-memory.mjs [--scenarios 2,3] [--conns 5000] [--json FILE] [--keep]
//   (after npm run build; on a shared machine: flock /tmp/bench.lock sh scripts/node.sh bench/conn-memory.mjs …)
//   sh scripts/node.sh bench/conn-memory.mjs --reanalyze RUN.json [--json OUT]   (a --keep run's snapshots, analysed again)
//
// Per scenario (bench/server.mjs: 2 bare NestJS WsAdapter, 3 module defaults, 5 module at 10 %
// sampling, 7 bare NestJS on socket.io, 8 the module on socket.io; any of 1-5, 7-12 runs), in a
// fresh server process (pinned like run.mjs):
//   1. 200 warm-up connections opened and closed (compiles the paths, as run.mjs does);
//   2. full GC, stats, heap snapshot A (0 connections);
//   3. --conns idle connections opened by a load worker thread of this process (bench/loadgen.mjs,
//      mode idle, one fresh loopback source address per 1,000 sockets; scenarios 7 and 8:
//      socket.io-client on its websocket transport, as run.mjs does), then 6 s (longer than the
//      BatchSpanProcessor's 5 s export delay: no ended span waits in its queue);
//   4. full GC, stats, heap snapshot B (N connections); the sockets are then closed, the server stopped.
// Then both snapshots are parsed here (nodes/edges/strings, with the field layouts of snapshot.meta).
//
// Method: the dominator tree of snapshot B (Cooper-Harvey-Kennedy iterative algorithm over the
// graph from the synthetic root, weak edges left out, as DevTools does). Per-connection roots:
//   CLS store        the object the state's `store` property holds
//   handshake span   what the state keeps on purpose: its `handshakeContext` (OTel context) and
//                    `handshakeLinks` (links array), the context's `handshakeSpanContext`
//   handshake leftovers  what the handshake leaves alive beyond that: span objects (Span/SpanImpl,
//                    ended at the 101), IncomingMessage objects (the HTTP upgrade request), and library
//                    closures whose scope holds a handshake `outcome` (an upgrade-socket listener)
//   connection state the object under the WebSocket's Symbol(tracing-ws:state) (with its context,
//                    transport wrapper, handler map, attributes…) and every closure defined in the
//                    library's code (the listeners it adds to the socket)
//   Nest             closures defined in @nestjs/* or rxjs code and rxjs objects (Observable,
//                    Subscriber…): the listeners and subscriptions of Nest's stock adapter
//   bench gateway    closures defined in bench/ (the gateway's own per-client code)
//   ws WebSocket     objects of class WebSocket;   net.Socket: objects of class Socket
//   socket.io (7, 8) socket.io Socket, socket.io Client, engine.io Socket, engine.io transport,
//                    engine.io request (the upgrade IncomingMessage engine.io keeps), ws WebSocket,
//                    net.Socket: told apart by a property of each class (bench/conn-memory-io.mjs);
//                    the module's parts are found as on ws, from the state under the socket.io
//                    Socket's Symbol(tracing-ws:state)
// Only objects new in B count (V8 keeps object ids across the snapshots of a process: an id A
// also has is an object from before the connections). Every new object is attributed to its
// nearest dominator that is such a root (so a category counts
// what only it keeps alive, nested roots excluded: the state's bytes exclude the CLS store and
// the handshake objects, which are categories of their own). Objects no single per-connection
// root dominates (kept by two of them, or Map/Set tables that grow with N: the clients Set, the
// library's registries) are "shared growth" = (snapshot B total − snapshot A total) − the
// categories; its largest classes (B − A, by self size) are listed. Sizes are V8's self sizes;
// 'native' nodes (Node's embedder graph: TCP handles, ArrayBuffer backing stores) are counted
// separately, as they are outside the JS heap.
// Validation printed per scenario: the categories plus shared growth per connection, JS heap only,
// against process.memoryUsage().heapUsed(B) − heapUsed(A) per connection (both after full GCs),
// and RSS per connection for context (RSS also has malloc'd memory and heap pages the heap
// snapshots do not see; both process baselines are taken after snapshot A has been written).
//
// Bounds: --conns 1..30000; a fresh server per scenario, its heap snapshot call times out after
// 300 s, the load worker after 10 min, this script after 30 min. Snapshots are written to
// bench/.build/heap/ and deleted after parsing unless --keep (≈ 25-35 MB each at 300 connections,
// growing with --conns). Parsing needs no more than node's default heap limit at 5,000 connections.

import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IO_PARTS, ioPart } from './conn-memory-io.mjs';
import { freshAddress, setUpPinning, startServer, startWorkers, transportOf } from './run.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const HEAP_DIR = join(here, '.build', 'heap');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ options
function parseArgs(argv) {
  const o = { scenarios: [2, 3], conns: 5000, json: undefined, keep: false, pin: 'auto', nice: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') o.keep = true;
    else if (a === '--scenarios') o.scenarios = argv[++i].split(',').map(Number);
    else if (a === '--conns') o.conns = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--pin') o.pin = argv[++i];
    else if (a === '--reanalyze') o.reanalyze = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (!(Number.isInteger(o.conns) && o.conns >= 1 && o.conns <= 30000)) throw new Error('--conns must be 1..30000');
  for (const s of o.scenarios) if (![1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12].includes(s)) throw new Error(`scenario ${s}: scenarios 1-5, 7-12 only`);
  return o;
}

// ------------------------------------------------------------------ snapshot parsing
/** Reads the numbers of a JSON array that starts at byte `from` (its '[') into a typed array. */
function parseNumberArray(buf, from, Type, expected) {
  const out = new Type(expected);
  let n = 0;
  let i = from + 1;
  let v = 0;
  let inNum = false;
  for (; ; i++) {
    const c = buf[i];
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      inNum = true;
    } else {
      if (inNum) {
        if (n >= out.length) throw new Error('snapshot: more numbers than the header says');
        out[n++] = v;
        v = 0;
        inNum = false;
      }
      if (c === 93) break; // ']'
    }
  }
  if (n !== expected) throw new Error(`snapshot: ${n} numbers, header says ${expected}`);
  return out;
}

export function loadSnapshot(file) {
  const buf = readFileSync(file);
  const at = (key) => {
    const i = buf.indexOf(`"${key}":`);
    if (i < 0) throw new Error(`snapshot: no ${key}`);
    return buf.indexOf('[', i);
  };
  const nodesAt = at('nodes');
  const header = JSON.parse(`${buf.toString('utf8', 0, buf.lastIndexOf(',', nodesAt - 8)).trim()}}`).snapshot;
  const meta = header.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nodes = parseNumberArray(buf, nodesAt, Float64Array, header.node_count * nf);
  const edges = parseNumberArray(buf, at('edges'), Uint32Array, header.edge_count * ef);
  const stringsAt = at('strings');
  const stringsEnd = buf.lastIndexOf(']');
  const strings = JSON.parse(buf.toString('utf8', stringsAt, stringsEnd + 1));
  return { meta, nf, ef, nodes, edges, strings, nodeCount: header.node_count };
}

/** Graph views over a parsed snapshot: node type/name/size, edges with their names. */
function graph(s) {
  const { meta, nf, ef, nodes, edges, strings, nodeCount } = s;
  const NT = meta.node_fields.indexOf('type');
  const NN = meta.node_fields.indexOf('name');
  const NS = meta.node_fields.indexOf('self_size');
  const NE = meta.node_fields.indexOf('edge_count');
  const NI = meta.node_fields.indexOf('id');
  const ET = meta.edge_fields.indexOf('type');
  const EN = meta.edge_fields.indexOf('name_or_index');
  const ETO = meta.edge_fields.indexOf('to_node');
  const nodeTypes = meta.node_types[NT];
  const edgeTypes = meta.edge_types[ET];
  const firstEdge = new Uint32Array(nodeCount + 1);
  for (let n = 0; n < nodeCount; n++) firstEdge[n + 1] = firstEdge[n] + nodes[n * nf + NE];
  const typeOf = (n) => nodeTypes[nodes[n * nf + NT]];
  const nameOf = (n) => strings[nodes[n * nf + NN]];
  const sizeOf = (n) => nodes[n * nf + NS];
  const idOf = (n) => nodes[n * nf + NI];
  const weak = edgeTypes.indexOf('weak');
  const nameIdx = { element: edgeTypes.indexOf('element'), hidden: edgeTypes.indexOf('hidden') };
  const edgeName = (e) => {
    const t = edges[e * ef + ET];
    const v = edges[e * ef + EN];
    return t === nameIdx.element || t === nameIdx.hidden ? String(v) : strings[v];
  };
  const edgeTo = (e) => edges[e * ef + ETO] / nf;
  const edgeType = (e) => edgeTypes[edges[e * ef + ET]];
  const isWeak = (e) => edges[e * ef + ET] === weak;
  /** The target of n's first edge named `name` (any type but weak), or -1. */
  const child = (n, name) => {
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) if (!isWeak(e) && edgeName(e) === name) return edgeTo(e);
    return -1;
  };
  return { nodeCount, firstEdge, typeOf, nameOf, sizeOf, idOf, edgeName, edgeTo, edgeType, isWeak, child, nodeTypes };
}

/** Immediate dominators from node 0 (Cooper, Harvey, Kennedy), weak edges ignored; -1: unreachable. */
function dominators(g) {
  const N = g.nodeCount;
  const { firstEdge, edgeTo, isWeak } = g;
  // Iterative DFS: postorder numbers.
  const post = new Int32Array(N).fill(-1);
  const order = new Uint32Array(N); // order[k] = node with postorder k
  const visited = new Uint8Array(N);
  const stackNode = new Uint32Array(N);
  const stackEdge = new Uint32Array(N);
  let sp = 0;
  let k = 0;
  stackNode[0] = 0;
  stackEdge[0] = firstEdge[0];
  visited[0] = 1;
  sp = 1;
  while (sp > 0) {
    const n = stackNode[sp - 1];
    let e = stackEdge[sp - 1];
    const end = firstEdge[n + 1];
    let pushed = false;
    for (; e < end; e++) {
      if (isWeak(e)) continue;
      const t = edgeTo(e);
      if (visited[t]) continue;
      visited[t] = 1;
      stackEdge[sp - 1] = e + 1;
      stackNode[sp] = t;
      stackEdge[sp] = firstEdge[t];
      sp++;
      pushed = true;
      break;
    }
    if (!pushed) {
      post[n] = k;
      order[k++] = n;
      sp--;
    }
  }
  const reachable = k;
  // Predecessors (CSR), reachable nodes only.
  const predCount = new Uint32Array(N + 1);
  for (let n = 0; n < N; n++) {
    if (post[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) if (!isWeak(e)) predCount[edgeTo(e) + 1]++;
  }
  for (let n = 0; n < N; n++) predCount[n + 1] += predCount[n];
  const preds = new Uint32Array(predCount[N]);
  const fill = predCount.slice(0, N);
  for (let n = 0; n < N; n++) {
    if (post[n] < 0) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e++) if (!isWeak(e)) preds[fill[edgeTo(e)]++] = n;
  }
  // doms indexed by postorder number.
  const doms = new Int32Array(reachable).fill(-1);
  const root = post[0];
  doms[root] = root;
  let changed = true;
  let passes = 0;
  while (changed) {
    changed = false;
    passes++;
    for (let i = reachable - 1; i >= 0; i--) {
      if (i === root) continue;
      const n = order[i];
      let nd = -1;
      for (let p = predCount[n]; p < predCount[n + 1]; p++) {
        let b = post[preds[p]];
        if (doms[b] < 0) continue;
        if (nd < 0) {
          nd = b;
          continue;
        }
        let a = nd;
        while (a !== b) {
          while (a < b) a = doms[a];
          while (b < a) b = doms[b];
        }
        nd = a;
      }
      if (doms[i] !== nd) {
        doms[i] = nd;
        changed = true;
      }
    }
    if (passes > 100) throw new Error('dominators: no convergence in 100 passes');
  }
  const idom = new Int32Array(N).fill(-1);
  for (let i = 0; i < reachable; i++) idom[order[i]] = order[doms[i]];
  return { idom, order, reachable, passes };
}

/** The script file a closure's code comes from ('' when unknown). */
function scriptOf(g, closure) {
  const shared = g.child(closure, 'shared');
  if (shared < 0) return '';
  const script = g.child(shared, 'script') >= 0 ? g.child(shared, 'script') : g.child(shared, 'script_or_debug_info');
  if (script < 0) return '';
  const name = g.child(script, 'name');
  return name >= 0 ? g.nameOf(name) : '';
}

/** rxjs classes: Nest's stock adapter subscribes to every client's messages through rxjs. */
const RXJS = new Set(['Observable', 'Subscriber', 'SafeSubscriber', 'OperatorSubscriber', 'Subscription', 'Subject', 'ConsumerObserver']);

/** The module's parts and the app's, whatever the transport; then the transport's own. */
const APP_PARTS = ['CLS store', 'handshake span', 'connection state', 'handshake leftovers', 'Nest', 'bench gateway'];
export const CATEGORIES = [...APP_PARTS, 'ws WebSocket', 'net.Socket'];
const IO_CATEGORIES = [...APP_PARTS, ...IO_PARTS];

/** Per-connection categories of snapshot B, and per-class totals of both snapshots. transport: 'ws' | 'io' (socket.io). */
export function attribute(fileA, fileB, conns, transport = 'ws') {
  const CATS = transport === 'io' ? IO_CATEGORIES : CATEGORIES;
  const classTotals = (g) => {
    const m = new Map();
    let js = 0;
    let native = 0;
    for (let n = 0; n < g.nodeCount; n++) {
      const size = g.sizeOf(n);
      const t = g.typeOf(n);
      if (t === 'native') native += size;
      else js += size;
      const key = `${t}:${t === 'string' || t === 'concatenated string' || t === 'sliced string' ? '(string)' : g.nameOf(n).slice(0, 60)}`;
      const c = m.get(key) ?? { count: 0, size: 0 };
      c.count++;
      c.size += size;
      m.set(key, c);
    }
    return { m, js, native };
  };
  // Snapshot A: only its totals (reachable and not) and its classes.
  let a = graph(loadSnapshot(fileA));
  const totalsA = classTotals(a);
  // Object ids are kept by V8's heap profiler across the snapshots of one process: an id of B
  // that A has is an object that existed before the connections were opened.
  const idsA = new Set();
  for (let n = 0; n < a.nodeCount; n++) idsA.add(a.idOf(n));
  a = undefined;
  const g = graph(loadSnapshot(fileB));
  const totalsB = classTotals(g);
  const { idom, order, reachable, passes } = dominators(g);
  const N = g.nodeCount;
  const isNew = new Uint8Array(N);
  let newJs = 0;
  let newNative = 0;
  for (let n = 0; n < N; n++) {
    if (idsA.has(g.idOf(n))) continue;
    isNew[n] = 1;
    if (g.typeOf(n) === 'native') newNative += g.sizeOf(n);
    else newJs += g.sizeOf(n);
  }
  // Category roots. 255 = none.
  const rootCat = new Uint8Array(N).fill(255);
  const cat = (name) => CATS.indexOf(name);
  const counts = Object.fromEntries(CATS.map((c) => [c, 0]));
  const mark = (n, name) => {
    if (cat(name) < 0) throw new Error(`no category ${name}`);
    if (n < 0 || rootCat[n] !== 255 || !isNew[n]) return;
    rootCat[n] = cat(name);
    counts[name]++;
  };
  let states = 0;
  let spans = 0;
  const scripts = new Map();
  for (let n = 0; n < N; n++) {
    if (idom[n] < 0) continue;
    const t = g.typeOf(n);
    const name = g.nameOf(n);
    if (t === 'object' && (name === 'Span' || name === 'SpanImpl')) {
      spans++;
      mark(n, 'handshake leftovers');
    } else if (t === 'object' && (name === 'WebSocket' || name === 'Socket')) {
      // The library's state hangs off the client under a symbol: the ws WebSocket, the socket.io Socket.
      for (let e = g.firstEdge[n]; e < g.firstEdge[n + 1]; e++) {
        if (g.isWeak(e) || !g.edgeName(e)?.includes('tracing-ws:state')) continue;
        const st = g.edgeTo(e);
        states++;
        mark(g.child(st, 'store'), 'CLS store');
        mark(g.child(st, 'handshakeContext'), 'handshake span');
        mark(g.child(st, 'handshakeLinks'), 'handshake span');
        const ctx = g.child(st, 'context');
        if (ctx >= 0) mark(g.child(ctx, 'handshakeSpanContext'), 'handshake span');
        mark(st, 'connection state');
      }
    }
  }
  // Second pass: classes and closures (after the state's parts, so that those keep their category).
  for (let n = 0; n < N; n++) {
    if (idom[n] < 0 || rootCat[n] !== 255 || !isNew[n]) continue;
    const t = g.typeOf(n);
    const name = g.nameOf(n);
    const part = transport === 'io' && t === 'object' ? ioPart(g, n, name) : undefined;
    if (part) mark(n, part);
    else if (transport === 'io' && t === 'object' && (name === 'WebSocket' || name === 'Socket')) continue; // another class of that name
    else if (t === 'object' && name === 'WebSocket') mark(n, 'ws WebSocket');
    else if (t === 'object' && name === 'Socket') mark(n, 'net.Socket');
    else if (t === 'object' && name === 'IncomingMessage') mark(n, 'handshake leftovers');
    else if (t === 'object' && RXJS.has(name)) mark(n, 'Nest');
    else if (t === 'closure') {
      const file = scriptOf(g, n);
      const bucket = /tracing-ws\/(dist|src)\//.test(file) ? 'connection state' : /node_modules\/(@nestjs|rxjs)\//.test(file) ? 'Nest' : /\/bench\//.test(file) ? 'bench gateway' : undefined;
      // A library closure whose scope holds a handshake outcome (the upgrade socket's listener
      // that gives an abandoned handshake's slot back): what it keeps is a leftover of the handshake.
      const scope = bucket === 'connection state' ? g.child(n, 'context') : -1;
      if (scope >= 0 && g.child(scope, 'outcome') >= 0) {
        scripts.set('handshake leftovers', (scripts.get('handshake leftovers') ?? 0) + 1);
        mark(n, 'handshake leftovers');
      } else if (bucket) {
        scripts.set(bucket, (scripts.get(bucket) ?? 0) + 1);
        mark(n, bucket);
      }
    }
  }
  // Nearest categorised dominator: idom comes before its children in reverse postorder.
  const catOf = new Uint8Array(N).fill(255);
  for (let i = reachable - 1; i >= 0; i--) {
    const n = order[i];
    catOf[n] = rootCat[n] !== 255 ? rootCat[n] : n === 0 ? 255 : catOf[idom[n]];
  }
  const bytes = CATS.map(() => ({ js: 0, native: 0, classes: new Map() }));
  for (let n = 0; n < N; n++) {
    const c = catOf[n];
    if (idom[n] < 0 || c === 255 || !isNew[n]) continue;
    const t = g.typeOf(n);
    const size = g.sizeOf(n);
    if (t === 'native') bytes[c].native += size;
    else bytes[c].js += size;
    const key = `${t}:${t.includes('string') ? '(string)' : g.nameOf(n).slice(0, 60)}`;
    const k = bytes[c].classes.get(key) ?? { count: 0, size: 0 };
    k.count++;
    k.size += size;
    bytes[c].classes.set(key, k);
  }
  const top = (m, per, limit = 8) =>
    [...m]
      .sort((x, y) => Math.abs(y[1].size) - Math.abs(x[1].size))
      .slice(0, limit)
      .map(([key, v]) => ({ key, countPerConn: +(v.count / per).toFixed(2), bytesPerConn: +(v.size / per).toFixed(1) }));
  // Shared growth by class: the new objects of B no per-connection root dominates.
  const growth = new Map();
  for (let n = 0; n < N; n++) {
    if (!isNew[n] || (idom[n] >= 0 && catOf[n] !== 255)) continue;
    const t = g.typeOf(n);
    const key = `${idom[n] < 0 ? 'unreachable ' : ''}${t}:${t.includes('string') ? '(string)' : g.nameOf(n).slice(0, 60)}`;
    const k = growth.get(key) ?? { count: 0, size: 0 };
    k.count++;
    k.size += g.sizeOf(n);
    growth.set(key, k);
  }
  const categories = {};
  CATS.forEach((name, i) => {
    categories[name] = { roots: counts[name], jsBytesPerConn: bytes[i].js / conns, nativeBytesPerConn: bytes[i].native / conns, top: top(bytes[i].classes, conns) };
  });
  const catJs = bytes.reduce((s, b) => s + b.js, 0);
  const catNative = bytes.reduce((s, b) => s + b.native, 0);
  return {
    transport,
    states,
    spansAlive: spans,
    closuresByOrigin: Object.fromEntries(scripts),
    dominatorPasses: passes,
    nodesB: N,
    snapshotJsA: totalsA.js,
    snapshotJsB: totalsB.js,
    snapshotNativeA: totalsA.native,
    snapshotNativeB: totalsB.native,
    categories,
    // New objects of B outside the categories; and what A had that B no longer has (or that shrank/grew in place).
    sharedGrowthJsPerConn: (newJs - catJs) / conns,
    sharedGrowthNativePerConn: (newNative - catNative) / conns,
    oldChangeJsPerConn: (totalsB.js - newJs - totalsA.js) / conns,
    snapshotDeltaJsPerConn: (totalsB.js - totalsA.js) / conns,
    sharedGrowthTop: top(growth, conns, 10),
  };
}

// ------------------------------------------------------------------ measurement
async function measure(o, s) {
  mkdirSync(HEAP_DIR, { recursive: true });
  const tag = `s${s}-${Date.now()}`;
  const fileA = join(HEAP_DIR, `${tag}-0.heapsnapshot`);
  const fileB = join(HEAP_DIR, `${tag}-${o.conns}.heapsnapshot`);
  const server = await startServer(s, { tag: '-mem' });
  let gen;
  let statsA;
  let statsB;
  let opened = 0;
  try {
    const warm = startWorkers(1, { url: server.url, transport: transportOf(s), connections: 200, mode: 'idle', localAddresses: [freshAddress()], connectConcurrency: 64, deadlineMs: 120_000 });
    await warm.connected(60_000);
    await warm.closed();
    await warm.stop();
    await sleep(500);
    await server.call('heap-snapshot', { file: fileA }, 300_000);
    // The baseline of the process figures is taken after snapshot A, so that both it and B's
    // figures include what writing a snapshot leaves in the process (malloc'd memory not given
    // back to the system: several MB of RSS).
    statsA = await server.call('gc');
    const workers = o.conns > 5000 ? 2 : 1;
    gen = startWorkers(workers, {
      url: server.url,
      transport: transportOf(s),
      connections: o.conns,
      mode: 'idle',
      localAddresses: Array.from({ length: Math.ceil(o.conns / 1000) }, freshAddress),
      connectConcurrency: Math.ceil(64 / workers),
      deadlineMs: 600_000,
    });
    const conn = await gen.connected(300_000);
    opened = conn.reduce((n, c) => n + c.opened, 0);
    const failed = conn.reduce((n, c) => n + c.failedOpen, 0);
    if (failed || opened !== o.conns) throw new Error(`scenario ${s}: ${opened} of ${o.conns} connections opened (${failed} refused)`);
    // 6 s: longer than the BatchSpanProcessor's 5 s export delay, so that no span waits in its queue.
    await sleep(6000);
    statsB = await server.call('heap-snapshot', { file: fileB }, 300_000);
    if (statsB.clients !== o.conns) throw new Error(`scenario ${s}: the server holds ${statsB.clients} clients, not ${o.conns}`);
  } finally {
    await gen?.stop();
    await server.stop();
  }
  const t0 = performance.now();
  let result;
  try {
    result = attribute(fileA, fileB, opened, transportOf(s));
  } catch (err) {
    // The snapshots stay for another look (attribute() can be imported and run on them).
    console.error(`scenario ${s}: analysis failed, snapshots kept: ${fileA} ${fileB}\n${err.stack}`);
    return { scenario: s, conns: opened, analysisError: String(err.message), snapshots: [fileA, fileB] };
  }
  if (!o.keep) {
    rmSync(fileA, { force: true });
    rmSync(fileB, { force: true });
  }
  return {
    scenario: s,
    conns: opened,
    heapUsedPerConn: (statsB.heapUsed - statsA.heapUsed) / opened,
    rssPerConn: (statsB.rss - statsA.rss) / opened,
    externalPerConn: (statsB.external - statsA.external) / opened,
    analysisMs: performance.now() - t0,
    snapshots: o.keep ? [fileA, fileB] : undefined,
    ...result,
  };
}

function report(r) {
  const f = (x) => (Number.isFinite(x) ? x.toFixed(0).padStart(6) : '     -');
  const L = [];
  L.push(`\n## scenario ${r.scenario}: ${r.conns} idle connections (${r.nodesB} nodes, dominators in ${r.dominatorPasses} passes, parsed in ${(r.analysisMs / 1000).toFixed(1)} s)`);
  L.push(`states ${r.states}, span objects alive ${r.spansAlive}, per-connection closures by origin ${JSON.stringify(r.closuresByOrigin)}`);
  L.push('category           | roots  | JS B/conn | native B/conn');
  let sumJs = 0;
  for (const [name, c] of Object.entries(r.categories)) {
    sumJs += c.jsBytesPerConn;
    L.push(`${name.padEnd(18)} | ${String(c.roots).padStart(6)} | ${f(c.jsBytesPerConn)}    | ${f(c.nativeBytesPerConn)}`);
  }
  L.push(`${'shared growth'.padEnd(18)} |        | ${f(r.sharedGrowthJsPerConn)}    | ${f(r.sharedGrowthNativePerConn)}`);
  L.push(`${'old objects freed/resized'.padEnd(18)} |        | ${f(r.oldChangeJsPerConn)}    |`);
  L.push(`new JS objects ${f(sumJs + r.sharedGrowthJsPerConn)} B/conn (categories ${f(sumJs)} + shared growth); snapshot JS delta ${f(r.snapshotDeltaJsPerConn)} B/conn; heapUsed delta ${f(r.heapUsedPerConn)} B/conn; RSS delta ${f(r.rssPerConn)} B/conn; external delta ${f(r.externalPerConn)} B/conn`);
  for (const [name, c] of Object.entries(r.categories)) if (c.roots) L.push(`  ${name}: ${c.top.map((t) => `${t.key} ×${t.countPerConn} ${t.bytesPerConn} B`).join('; ')}`);
  L.push(`  shared growth: ${r.sharedGrowthTop.map((t) => `${t.key} ×${t.countPerConn} ${t.bytesPerConn} B`).join('; ')}`);
  return L.join('\n');
}

if (process.argv[1] && realpathSync(resolvePath(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url))) {
  const o = parseArgs(process.argv.slice(2));
  if (o.reanalyze) {
    // --reanalyze RUN.json [--json OUT]: the snapshots of a --keep run analysed again (no server, no load).
    const run = JSON.parse(readFileSync(o.reanalyze, 'utf8'));
    for (const [i, r] of run.results.entries()) {
      const t0 = performance.now();
      const [fileA, fileB] = r.snapshots;
      const { scenario, conns, heapUsedPerConn, rssPerConn, externalPerConn } = r;
      run.results[i] = { scenario, conns, heapUsedPerConn, rssPerConn, externalPerConn, snapshots: r.snapshots, ...attribute(fileA, fileB, conns, transportOf(scenario)), analysisMs: performance.now() - t0 };
      console.log(report(run.results[i]));
    }
    if (o.json) writeFileSync(o.json, JSON.stringify({ ...run, reanalyzedAt: new Date().toISOString() }, null, 2));
    process.exit(0);
  }
  const hardStop = setTimeout(() => {
    console.error('conn-memory: hard time limit (30 min) reached');
    process.exit(5);
  }, 30 * 60_000);
  hardStop.unref();
  setUpPinning(o);
  console.log(`# conn-memory: scenarios ${o.scenarios.join(',')}, ${o.conns} idle connections, ${new Date().toISOString()}`);
  const results = [];
  for (const s of o.scenarios) {
    const r = await measure(o, s);
    results.push(r);
    if (!r.analysisError) console.log(report(r));
  }
  if (o.json) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, JSON.stringify({ options: o, at: new Date().toISOString(), results }, null, 2));
    console.log(`# results in ${o.json}`);
  }
  process.exit(0);
}
