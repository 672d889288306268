import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';

/** Outcome of an upgrade attempt: the 101 (with its open socket) or the refusal. */
export interface UpgradeResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socket?: WebSocket;
}

/**
 * The text of a WebSocket upgrade request, for a raw TCP socket (a test that sends hostile
 * headers, or resets the connection halfway): `headerLines` are extra `Name: value` lines.
 */
export function upgradeRequestText(path: string, host: string, headerLines: readonly string[] = []): string {
  return [`GET ${path} HTTP/1.1`, `Host: ${host}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', ...headerLines, '', ''].join('\r\n');
}

/** Attempts an upgrade and reports the HTTP answer, whether 101 or a refusal. */
export function upgrade(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<UpgradeResult> {
  const { protocols, ...rest } = options;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols ?? [], rest);
    let response: IncomingMessage | undefined;
    const timer = setTimeout(() => reject(new Error(`upgrade to ${url} timed out`)), 5000);
    ws.once('upgrade', (res) => (response = res));
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ status: 101, headers: response?.headers ?? {}, body: '', socket: ws });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Opens a socket, failing unless the server answers 101. */
export async function connect(url: string, options: ClientOptions & { protocols?: string[] } = {}): Promise<TestSocket> {
  const result = await upgrade(url, options);
  if (!result.socket) throw new Error(`expected 101, got ${result.status}`);
  return new TestSocket(result.socket, result.headers);
}

export interface Frame {
  event: string;
  data?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  meta?: { traceId?: string; id?: string; traceparent?: string; [key: string]: unknown };
}

/** A ws client that queues every frame it receives, for awaiting one at a time. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(
    readonly ws: WebSocket,
    readonly upgradeHeaders: IncomingHttpHeaders,
  ) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  send(event: string, data?: unknown, meta?: Frame['meta']): void {
    this.ws.send(JSON.stringify(meta ? { event, data, meta } : { event, data }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Waits for the first not-yet-taken frame matching `predicate`, and takes it. */
  async next(predicate: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.frames.findIndex(predicate);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a frame and waits for the next frame of event `replyEvent` (or an error frame). */
  async request(event: string, data: unknown, replyEvent = event, meta?: Frame['meta']): Promise<Frame> {
    this.send(event, data, meta);
    return this.next((f) => f.event === replyEvent || f.event === 'error');
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000);
    await this.closed;
  }
}
