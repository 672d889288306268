// Telemetry first: its require() runs before Nest and the library load.
import { sdk } from './telemetry';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger, PinoLogger } from 'nestjs-pino';
import { TracingWsAdapter } from '@tracing-ws/nestjs';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  // TRANSPORT=socket.io serves the same gateway over socket.io (its path is then the engine path).
  if (process.env.TRANSPORT === 'socket.io') {
    const { TracingIoAdapter } = await import('@tracing-ws/nestjs/socket.io');
    app.useWebSocketAdapter(new TracingIoAdapter(app));
  } else {
    app.useWebSocketAdapter(new TracingWsAdapter(app));
  }
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  const address = app.getHttpServer().address();
  PinoLogger.root.info({ port: typeof address === 'object' && address ? address.port : 0, moduleSystem: typeof require === 'function' ? 'commonjs' : 'esm', transport: process.env.TRANSPORT ?? 'ws' }, 'sample.listening');
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => sdk.shutdown())
      .then(() => process.exit(0));
  });
}

void bootstrap();
