import type { DynamicModule, INestApplication, Provider, Type, WebSocketAdapter } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { Logger as PinoNestLogger, LoggerModule } from 'nestjs-pino';
import type { AddressInfo } from 'node:net';
import { TracingWsAdapter, TracingWsModule, wsLogMixin, type TracingWsModuleOptions } from '@tracing-ws/nestjs';
import { LogCapture } from './log-capture.js';

/** pino-http builds one root logger per process (per test file here), so every app of a file shares this capture. */
export const logs = new LogCapture();

export interface TestApp {
  app: INestApplication;
  /** `ws://127.0.0.1:<port>` */
  wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  httpUrl: string;
  /** The `/metrics` text; `accept` is sent as the `Accept` header (none by default). */
  metrics(accept?: string): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  gateways: Type[];
  providers?: Provider[];
  controllers?: Type[];
  imports?: Array<Type | DynamicModule>;
  tracing?: TracingWsModuleOptions;
  /** Use instead of `TracingWsModule.forRoot(tracing)`. */
  tracingModule?: DynamicModule;
  /** The WebSocket adapter; `TracingWsAdapter` by default. */
  adapter?: (app: INestApplication) => WebSocketAdapter;
  /** The port to listen on; 0 (any free port) by default. */
  port?: number;
  /** The `/metrics` controller given to `PrometheusModule`; its own by default. */
  metricsController?: Type;
}

/** A real Nest app with TracingWsModule, listening on 127.0.0.1, port 0. */
export async function startApp(options: TestAppOptions): Promise<TestApp> {
  @Module({
    imports: [
      LoggerModule.forRoot({ pinoHttp: [{ level: 'debug', mixin: wsLogMixin, redact: ['req.headers.authorization', 'req.headers.cookie'] }, logs] }),
      PrometheusModule.register({ defaultMetrics: { enabled: false }, ...(options.metricsController ? { controller: options.metricsController } : {}) }),
      options.tracingModule ?? TracingWsModule.forRoot(options.tracing ?? {}),
      ...(options.imports ?? []),
    ],
    providers: [...options.gateways, ...(options.providers ?? [])],
    controllers: options.controllers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  // Nest's Logger (user code) writes through pino, as in a real app.
  app.useLogger(app.get(PinoNestLogger));
  app.useWebSocketAdapter(options.adapter ? options.adapter(app) : new TracingWsAdapter(app));
  await app.listen(options.port ?? 0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl,
    metrics: async (accept?: string) => (await fetch(`${httpUrl}/metrics`, accept ? { headers: { accept } } : {})).text(),
    close: () => app.close(),
  };
}
