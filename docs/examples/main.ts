// main.ts: the SDK starts before Nest and the HTTP modules are loaded, so they are imported after it
import { startTelemetry } from './telemetry.js';

const sdk = startTelemetry();
const { NestFactory } = await import('@nestjs/core');
const { Logger } = await import('nestjs-pino');
const { TracingWsAdapter } = await import('@tracing-ws/nestjs');
const { AppModule } = await import('./app.module.js');

const app = await NestFactory.create(AppModule, { bufferLogs: true });
app.useLogger(app.get(Logger));
app.useWebSocketAdapter(new TracingWsAdapter(app));
await app.listen(3000);

process.once('SIGTERM', async () => {
  await app.close(); // in-flight messages are answered, clients get 1001
  await sdk.shutdown(); // the last spans are exported
  process.exit(0);
});
