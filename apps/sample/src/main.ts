// Telemetry first: the SDK must be running before the app's modules load.
import { startTelemetry } from './telemetry.js';
const sdk = startTelemetry();

const { NestFactory } = await import('@nestjs/core');
const { Logger, PinoLogger } = await import('nestjs-pino');
const { TracingWsAdapter } = await import('@tracing-ws/nestjs');
const { AppModule } = await import('./app.module.js');
const { loadConfig } = await import('./config.js');

const { join } = await import('node:path');

const config = loadConfig();
const app = await NestFactory.create<import('@nestjs/platform-express').NestExpressApplication>(AppModule, { bufferLogs: true });
// The chat page (apps/sample/public) and the browser client library it uses.
const root = join(import.meta.dirname, '..', '..', '..');
app.useStaticAssets(join(root, 'apps', 'sample', 'public'));
app.useStaticAssets(join(root, 'libs', 'tracing-ws-client', 'dist'), { prefix: '/vendor/tracing-ws-client/' });
const logger = app.get(Logger);
app.useLogger(logger);
app.useWebSocketAdapter(new TracingWsAdapter(app));
app.enableShutdownHooks();
await app.listen(config.port, config.host);
const address = app.getHttpServer().address();
PinoLogger.root.info({ port: typeof address === 'object' && address ? address.port : config.port }, 'sample.listening');

// Spans still buffered are flushed after Nest has closed every connection.
process.once('exit', () => void sdk.shutdown());
