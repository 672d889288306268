// socket.io's own per-connection objects, as parts of bench/conn-memory.mjs (scenarios 7, 8).
//
// One idle socket.io connection (websocket transport, default namespace) is, on the server:
//   socket.io Socket     the namespace connection (`nsp`, `handshake`, `acks`, `data`…): what
//                        gateways receive, and where TracingIoAdapter keeps its state
//   socket.io Client     the engine.io connection's socket.io side (`decoder`, `sockets`, `nsps`)
//   engine.io Socket     the engine.io session (`transport`, `writeBuffer`, `packetsFn`, ping timers)
//   engine.io transport  engine.io's websocket transport (class WebSocket, its `socket` is ws's)
//   engine.io request    the HTTP upgrade request, kept by engine.io as `socket.request` (socket.io's
//                        `socket.request`): stock socket.io keeps it for the connection's whole life
//   ws WebSocket, net.Socket  as on ws
// Several of these share a class name (socket.io's Socket, engine.io's and net.Socket are all
// `Socket`; engine.io's transport and ws's socket are both `WebSocket`), so a part is told apart
// by a property only that class has.

/** Parts of a socket.io connection, in addition to the module's, Nest's and the bench's. */
export const IO_PARTS = ['socket.io Socket', 'socket.io Client', 'engine.io Socket', 'engine.io transport', 'engine.io request', 'ws WebSocket', 'net.Socket'];

/** The socket.io part whose root object `n` (of class `name`) is, or undefined. `g`: conn-memory.mjs's graph view. */
export function ioPart(g, n, name) {
  const has = (edge) => g.child(n, edge) >= 0;
  if (name === 'Socket') {
    if (has('nsp') && has('handshake')) return 'socket.io Socket';
    if (has('packetsFn') && has('writeBuffer')) return 'engine.io Socket';
    if (has('_readableState')) return 'net.Socket';
  } else if (name === 'WebSocket') {
    if (has('_receiver')) return 'ws WebSocket';
    if (has('parser') && has('socket')) return 'engine.io transport';
  } else if (name === 'Client' && has('decoder') && has('conn')) return 'socket.io Client';
  else if (name === 'IncomingMessage') return 'engine.io request';
  return undefined;
}
