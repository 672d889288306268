// main.ts on socket.io, several instances: socket.io's Redis adapter, its broadcasts traced across instances
import type { INestApplication } from '@nestjs/common';
import type { TracedRedisAdapterFactory } from '@tracing-ws/nestjs/socket.io';
import type { Server, ServerOptions } from 'socket.io';
import { startTelemetry } from './telemetry.js';

const sdk = startTelemetry();
const { NestFactory } = await import('@nestjs/core');
const { Logger } = await import('nestjs-pino');
const { Redis } = await import('ioredis');
const { createTracedRedisAdapter, TracingIoAdapter } = await import('@tracing-ws/nestjs/socket.io');
const { AppModule } = await import('./app.module.js');

/** The NestJS docs' RedisIoAdapter, on TracingIoAdapter. */
class RedisIoAdapter extends TracingIoAdapter {
  constructor(
    app: INestApplication,
    private readonly redisAdapter: TracedRedisAdapterFactory,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, options).adapter(this.redisAdapter);
  }
}

const url = process.env.REDIS_URL ?? 'redis://localhost:6379';
// No offline queue on the publisher: while Redis is down a broadcast fails at once (counted,
// logged) instead of piling up in memory and reaching the other instances minutes late.
const pubClient = new Redis(url, { enableOfflineQueue: false });
const subClient = new Redis(url);
// Outages show in ws_broadcast_failed_total and ws.broadcast_backend_down; no console noise.
for (const client of [pubClient, subClient]) client.on('error', () => {});

const app = await NestFactory.create(AppModule, { bufferLogs: true });
app.useLogger(app.get(Logger));
app.useWebSocketAdapter(new RedisIoAdapter(app, await createTracedRedisAdapter(pubClient, subClient)));
await app.listen(3000);

process.once('SIGTERM', async () => {
  await app.close();
  // QUIT after the adapters' UNSUBSCRIBEs, which app.close() sent.
  await Promise.all([pubClient.quit(), subClient.quit()]);
  await sdk.shutdown();
  process.exit(0);
});
