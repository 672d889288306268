import type { Type } from '@nestjs/common';
import { TracingWsAdapter, TracingWsMetricsController } from '@tracing-ws/nestjs';
import { connect as tcpConnect } from 'node:net';
import { startApp } from '../support/app.js';
import { TestSocket, upgrade, upgradeRequestText } from '../support/ws-client.js';
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

/** `@nestjs/platform-ws` through TracingWsAdapter, driven by the `ws` client: JSON text frames `{event, data, meta}`. */
export const wsHarness: TransportHarness = {
  name: 'ws',
  messagingSystem: 'websocket',
  async start(setup) {
    const logs = logsFromNow();
    const t = await startApp({
      gateways: setup.gateways,
      providers: setup.providers,
      imports: setup.imports,
      controllers: setup.controllers,
      tracing: setup.options ?? {},
      metricsController: TracingWsMetricsController,
      adapter: (app) => new TracingWsAdapter(app),
    });
    let closing: Promise<void> | undefined;
    const app: HarnessApp = {
      connect: (options) => connectWs(t.wsUrl, options),
      startHandshake: (options) => startWsHandshake(t.wsUrl, options),
      httpUrl: t.httpUrl,
      get: <T>(token: Type<T>): T => t.app.get(token),
      gatewayLabels: { path: CONFORMANCE_PATH, transport: 'ws' },
      metrics: (accept) => t.metrics(accept),
      logs,
      spans: finishedSpans,
      waitForSpan,
      close: () => (closing ??= t.close()),
    };
    return app;
  },
};

/** The upgrade request on a raw TCP socket, so that the test can reset it at any point. */
function startWsHandshake(wsUrl: string, options: HarnessConnectOptions = {}): HarnessPendingHandshake {
  const { hostname, port } = new URL(wsUrl);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const query = new URLSearchParams(options.query).toString();
  const socket = tcpConnect(Number(port), hostname, () => {
    const headerLines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    socket.write(upgradeRequestText(`${CONFORMANCE_PATH}${query ? `?${query}` : ''}`, `${hostname}:${port}`, headerLines));
  });
  socket.on('error', () => undefined);
  return { reset: () => socket.resetAndDestroy() };
}

async function connectWs(wsUrl: string, options: HarnessConnectOptions = {}): Promise<HarnessConnection> {
  const query = new URLSearchParams(options.query).toString();
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const result = await upgrade(`${wsUrl}${CONFORMANCE_PATH}${query ? `?${query}` : ''}`, { headers });
  const traceHeader = result.headers['x-trace-id'];
  const traceId = typeof traceHeader === 'string' ? traceHeader : undefined;
  if (!result.socket) {
    return { accepted: false, status: result.status, traceId, received: JSON.stringify({ status: result.status, headers: result.headers, body: result.body }) };
  }
  if (!traceId) throw new Error('the 101 carried no X-Trace-ID');
  return { accepted: true, client: new WsHarnessClient(new TestSocket(result.socket, result.headers), traceId) };
}

class WsHarnessClient implements HarnessClient {
  constructor(
    private readonly socket: TestSocket,
    readonly traceId: string,
  ) {}

  send(event: string, data?: unknown, meta?: HarnessSendMeta): void {
    this.socket.send(event, data, meta);
  }

  next(event: string, timeoutMs = 5000): Promise<HarnessFrame> {
    return this.socket.next((f) => f.event === event, timeoutMs);
  }

  request(event: string, data?: unknown, options: { reply?: string; meta?: HarnessSendMeta; timeoutMs?: number } = {}): Promise<HarnessFrame> {
    const reply = options.reply ?? event;
    this.socket.send(event, data, options.meta);
    return this.socket.next((f) => f.event === reply || f.event === 'error', options.timeoutMs ?? 5000);
  }

  async closed(timeoutMs = 5000): Promise<HarnessClose> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection did not close within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.socket.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.socket.close();
  }
}
