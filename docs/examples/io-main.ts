// main.ts on socket.io: the same module options, the socket.io adapter from its own entry point
import { startTelemetry } from './telemetry.js';

const sdk = startTelemetry();
const { NestFactory } = await import('@nestjs/core');
const { Logger } = await import('nestjs-pino');
const { TracingIoAdapter } = await import('@tracing-ws/nestjs/socket.io');
const { AppModule } = await import('./app.module.js');

const app = await NestFactory.create(AppModule, { bufferLogs: true });
app.useLogger(app.get(Logger));
app.useWebSocketAdapter(new TracingIoAdapter(app));
await app.listen(3000);

process.once('SIGTERM', async () => {
  await app.close(); // in-flight events are answered, clients are told and reconnect elsewhere
  await sdk.shutdown();
  process.exit(0);
});
