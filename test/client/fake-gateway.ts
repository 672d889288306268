import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One accepted connection as the server saw it. */
export interface FakeConnection {
  socket: WebSocket;
  url: URL;
  protocols: string[];
  frames: Array<{ event: string; data?: unknown; meta?: { id?: string; traceparent?: string } }>;
}

/**
 * A real `ws` server that speaks the TracingWsModule frame protocol just enough to
 * drive the client: selects `json`, checks `bearer.<token>`, replies with
 * `meta.id` and `meta.traceId` (the traceparent's trace), answers `fail` with an
 * error frame and never answers `ignore` (or anything, while `mute`).
 */
export class FakeGateway {
  readonly connections: FakeConnection[] = [];
  /** Tokens accepted at the handshake; `undefined` accepts any (or none). */
  tokens: Set<string> | undefined;
  /** While true, frames are recorded but never answered: a dead peer. */
  mute = false;
  private readonly server: WebSocketServer;
  private readonly waiting: Array<(c: FakeConnection) => void> = [];
  private readonly frameWaiters: Array<{ match: (f: FakeConnection['frames'][number]) => boolean; resolve: () => void }> = [];

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on('connection', (socket: WebSocket, req: IncomingMessage) => this.accept(socket, req));
  }

  static async start(port = 0): Promise<FakeGateway> {
    const holder: { gateway?: FakeGateway } = {};
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port,
      handleProtocols: (protocols) => (protocols.has('json') ? 'json' : false),
      verifyClient: (info, done) => {
        const gateway = holder.gateway;
        const offered = String(info.req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
        const url = new URL(info.req.url ?? '/', 'ws://localhost');
        const token = offered.find((p) => p.startsWith('bearer.'))?.slice('bearer.'.length) ?? url.searchParams.get('access_token') ?? undefined;
        if (gateway?.tokens && (!token || !gateway.tokens.has(token))) return done(false, 401, 'Unauthorized');
        done(true);
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    holder.gateway = new FakeGateway(server);
    return holder.gateway;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/chat`;
  }

  /** Resolves with the next accepted connection (or the n-th, counting from 1, if already there). */
  connection(n: number, timeoutMs = 5000): Promise<FakeConnection> {
    const existing = this.connections[n - 1];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for connection #${n}`)), timeoutMs);
      const check = (): void => {
        const c = this.connections[n - 1];
        if (!c) return void this.waiting.push(check);
        clearTimeout(timer);
        resolve(c);
      };
      this.waiting.push(check);
    });
  }

  /** Resolves once a frame matching `match` has arrived on any connection. */
  frame(match: (f: FakeConnection['frames'][number]) => boolean, timeoutMs = 5000): Promise<void> {
    if (this.connections.some((c) => c.frames.some(match))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.frameWaiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const connection: FakeConnection = {
      socket,
      url: new URL(req.url ?? '/', 'ws://localhost'),
      protocols: String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      frames: [],
    };
    this.connections.push(connection);
    socket.on('message', (raw) => this.onFrame(connection, raw.toString()));
    for (const wake of this.waiting.splice(0)) wake(connection);
  }

  private onFrame(connection: FakeConnection, text: string): void {
    const frame = JSON.parse(text) as FakeConnection['frames'][number];
    connection.frames.push(frame);
    for (const waiter of [...this.frameWaiters]) {
      if (waiter.match(frame)) {
        this.frameWaiters.splice(this.frameWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    if (this.mute || frame.event === 'ignore') return;
    const traceId = frame.meta?.traceparent?.split('-')[1];
    const meta = { id: frame.meta?.id, traceId };
    if (frame.event === 'fail') {
      connection.socket.send(JSON.stringify({ event: 'error', data: { code: 'RATE_LIMITED', message: 'Too many messages', traceId, retryable: true }, meta }));
    } else if (frame.event === 'join') {
      connection.socket.send(JSON.stringify({ event: 'joined', data: frame.data, meta }));
    } else {
      connection.socket.send(JSON.stringify({ event: frame.event, data: frame.data, meta }));
    }
  }
}
