import type { Type } from '@nestjs/common';
import { TracingWsMetricsController } from '@tracing-ws/nestjs';
import { IO_CLOSE_EVENT, IO_EXCEPTION_EVENT, IO_META_KEY, IO_SESSION_EVENT, TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { io, type Socket } from 'socket.io-client';
import { startApp } from '../support/app.js';
import {
  CONFORMANCE_PATH,
  type HarnessApp,
  type HarnessClient,
  type HarnessClose,
  type HarnessConnectOptions,
  type HarnessConnection,
  type HarnessFrame,
  type HarnessPendingHandshake,
  type HarnessSendMeta,
  type TransportHarness,
} from './harness.js';
import { finishedSpans, logsFromNow, waitForSpan } from './observed.js';

/**
 * `@nestjs/platform-socket.io` through TracingIoAdapter, driven by the official
 * `socket.io-client` on the websocket transport. The conformance gateway's `path`
 * is socket.io's engine path; its namespace is `/`. Frames map as the README's
 * socket.io section says: an emitted event is `{event, data: first argument,
 * meta: trailing $meta}`, an acknowledgement is the reply (its `$meta` the meta,
 * an `error` field an error frame), `exception` is an error frame.
 */
export const ioHarness: TransportHarness = {
  name: 'socket.io',
  messagingSystem: 'socket.io',
  async start(setup) {
    const logs = logsFromNow();
    const t = await startApp({
      gateways: setup.gateways,
      providers: setup.providers,
      imports: setup.imports,
      controllers: setup.controllers,
      tracing: setup.options ?? {},
      metricsController: TracingWsMetricsController,
      adapter: (app) => new TracingIoAdapter(app),
    });
    let closing: Promise<void> | undefined;
    const app: HarnessApp = {
      connect: (options) => connectIo(t.httpUrl, options),
      startHandshake: (options) => startIoHandshake(t.httpUrl, options),
      httpUrl: t.httpUrl,
      get: <T>(token: Type<T>): T => t.app.get(token),
      gatewayLabels: { path: '/', transport: 'socket.io' },
      metrics: (accept) => t.metrics(accept),
      logs,
      spans: finishedSpans,
      waitForSpan,
      close: () => (closing ??= t.close()),
    };
    return app;
  },
};

interface ConnectError extends Error {
  data?: { code?: string; status?: number; traceId?: string };
  description?: unknown;
}

function ioClient(httpUrl: string, options: HarnessConnectOptions): Socket {
  return io(httpUrl, {
    path: CONFORMANCE_PATH,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: options.token === undefined ? {} : { token: options.token },
    extraHeaders: options.headers,
    query: options.query,
  });
}

/** A socket.io client whose TCP connection (under engine.io's websocket, the `ws` package) the test can reset. */
function startIoHandshake(httpUrl: string, options: HarnessConnectOptions = {}): HarnessPendingHandshake {
  const socket = ioClient(httpUrl, options);
  socket.on('connect_error', () => undefined);
  return {
    reset: () => {
      const transport = socket.io.engine?.transport as unknown as { ws?: { _socket?: { resetAndDestroy(): void } } } | undefined;
      const tcp = transport?.ws?._socket;
      if (!tcp) throw new Error('the socket.io client has no TCP connection to reset yet');
      tcp.resetAndDestroy();
      socket.close();
    },
  };
}

async function connectIo(httpUrl: string, options: HarnessConnectOptions = {}): Promise<HarnessConnection> {
  const socket = ioClient(httpUrl, options);
  const client = new IoHarnessClient(socket);
  return new Promise<HarnessConnection>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('socket.io client neither connected nor was refused within 5000 ms'));
    }, 5000);
    socket.once(IO_SESSION_EVENT, (session: { traceId: string }) => {
      clearTimeout(timer);
      client.traceId = session.traceId;
      resolve({ accepted: true, client });
    });
    socket.once('connect_error', (err: ConnectError) => {
      clearTimeout(timer);
      socket.close();
      resolve({ accepted: false, status: refusalStatus(err), traceId: err.data?.traceId, received: JSON.stringify({ message: err.message, data: err.data, description: String(err.description ?? '') }) });
    });
  });
}

/** A namespace middleware's refusal carries `data.status`; an `allowRequest` refusal reaches a websocket client as the upgrade's HTTP status. */
function refusalStatus(err: ConnectError): number {
  if (typeof err.data?.status === 'number') return err.data.status;
  const m = /Unexpected server response: (\d{3})/.exec(String((err.description as { message?: string } | undefined)?.message ?? err.description ?? ''));
  return m ? Number(m[1]) : 0;
}

type Meta = HarnessFrame['meta'];

function metaOf(value: unknown): Meta {
  return typeof value === 'object' && value !== null && IO_META_KEY in value ? ((value as Record<string, unknown>)[IO_META_KEY] as Meta) : undefined;
}

class IoHarnessClient implements HarnessClient {
  traceId = '';
  private readonly frames: HarnessFrame[] = [];
  private readonly waiters: Array<{ match: (f: HarnessFrame) => boolean; resolve: (f: HarnessFrame) => void }> = [];
  private closeNotice: HarnessClose | undefined;
  private readonly disconnected: Promise<HarnessClose>;

  constructor(private readonly socket: Socket) {
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === IO_SESSION_EVENT) return;
      if (event === IO_CLOSE_EVENT) {
        this.closeNotice = args[0] as HarnessClose;
        return;
      }
      const meta = metaOf(args[1]);
      this.push({ event: event === IO_EXCEPTION_EVENT ? 'error' : event, data: args[0], ...(meta ? { meta } : {}) });
    });
    this.disconnected = new Promise((resolve) => {
      socket.once('disconnect', (reason: string) => resolve(this.closeNotice ?? { code: reason === 'io client disconnect' ? 1000 : 1006, reason }));
    });
  }

  private push(frame: HarnessFrame): void {
    const i = this.waiters.findIndex((w) => w.match(frame));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
    else this.frames.push(frame);
  }

  private take(match: (f: HarnessFrame) => boolean, timeoutMs: number, what: string): Promise<HarnessFrame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: HarnessFrame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  private emit(event: string, data: unknown, meta: HarnessSendMeta | undefined, ack?: (value: unknown) => void): void {
    const args: unknown[] = [data ?? null];
    if (meta) args.push({ [IO_META_KEY]: meta });
    if (ack) args.push(ack);
    this.socket.emit(event, ...args);
  }

  send(event: string, data?: unknown, meta?: HarnessSendMeta): void {
    this.emit(event, data, meta);
  }

  next(event: string, timeoutMs = 5000): Promise<HarnessFrame> {
    return this.take((f) => f.event === event, timeoutMs, `"${event}" frame`);
  }

  /** Emits with an acknowledgement: the reply is the acknowledgement, or an emitted `reply` / error event, whichever comes first. */
  request(event: string, data?: unknown, options: { reply?: string; meta?: HarnessSendMeta; timeoutMs?: number } = {}): Promise<HarnessFrame> {
    const reply = options.reply ?? event;
    const marker = `ack:${Math.random()}`;
    this.emit(event, data, options.meta, (value: unknown) => {
      const meta = metaOf(value);
      const body = { ...(value as Record<string, unknown>) };
      delete body[IO_META_KEY];
      if ('error' in body) return this.push({ event: marker, data: { error: body.error, meta } });
      const keys = Object.keys(body);
      this.push({ event: marker, data: { reply: keys.length === 1 && keys[0] === 'data' ? body.data : body, meta } });
    });
    return this.take((f) => f.event === marker || f.event === reply || f.event === 'error', options.timeoutMs ?? 5000, `reply to "${event}"`).then((f) => {
      if (f.event !== marker) return f;
      const acked = f.data as { error?: unknown; reply?: unknown; meta: Meta };
      const meta = acked.meta ? { meta: acked.meta } : {};
      return 'error' in acked ? { event: 'error', data: acked.error, ...meta } : { event: reply, data: acked.reply, ...meta };
    });
  }

  async closed(timeoutMs = 5000): Promise<HarnessClose> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection did not close within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.disconnected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.socket.connected) this.socket.disconnect();
    await this.closed();
  }
}
