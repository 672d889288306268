// main.ts with ws and socket.io gateways on one port: one adapter serves both
import { startTelemetry } from './telemetry.js';

const sdk = startTelemetry();
const { NestFactory } = await import('@nestjs/core');
const { Logger } = await import('nestjs-pino');
const { TracingCompositeAdapter } = await import('@tracing-ws/nestjs/composite');
const { AppModule } = await import('./app.module.js');

const app = await NestFactory.create(AppModule, { bufferLogs: true });
app.useLogger(app.get(Logger));
// Gateways whose options name no `transport` go to `defaultTransport` ('ws' unless set).
app.useWebSocketAdapter(new TracingCompositeAdapter(app, { defaultTransport: 'ws' }));
await app.listen(3000);

process.once('SIGTERM', async () => {
  await app.close(); // both kinds of clients are drained: ws ones get 1001, socket.io ones reconnect elsewhere
  await sdk.shutdown();
  process.exit(0);
});
