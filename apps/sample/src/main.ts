// Telemetry first: the SDK must be running before the app's modules load.
import { startTelemetry } from './telemetry.js';
const sdk = startTelemetry();

const { NestFactory } = await import('@nestjs/core');
const { Logger, PinoLogger } = await import('nestjs-pino');
const { TracingWsAdapter } = await import('@tracing-ws/nestjs');
const { AppModule } = await import('./app.module.js');
const { loadConfig } = await import('./config.js');

const config = loadConfig();
const app = await NestFactory.create(AppModule, { bufferLogs: true });
const logger = app.get(Logger);
app.useLogger(logger);
app.useWebSocketAdapter(new TracingWsAdapter(app));
app.enableShutdownHooks();
await app.listen(config.port, config.host);
const address = app.getHttpServer().address();
PinoLogger.root.info({ port: typeof address === 'object' && address ? address.port : config.port }, 'sample.listening');

// Spans still buffered are flushed after Nest has closed every connection.
process.once('exit', () => void sdk.shutdown());
