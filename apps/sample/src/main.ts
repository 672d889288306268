// Telemetry first: the SDK must be running before the app's modules load.
import { startTelemetry } from './telemetry.js';
const sdk = startTelemetry();

const { NestFactory } = await import('@nestjs/core');
const { Logger, PinoLogger } = await import('nestjs-pino');
const { AppModule } = await import('./app.module.js');
const { loadConfig } = await import('./config.js');
const { chatAdapter } = await import('./chat/chat.transport.js');

const { join } = await import('node:path');

const config = loadConfig();
const app = await NestFactory.create<import('@nestjs/platform-express').NestExpressApplication>(AppModule, { bufferLogs: true });
// The chat page (apps/sample/public) and the browser client library it uses.
const root = join(import.meta.dirname, '..', '..', '..');
// On socket.io the page keeps its markup and gets the script of public/io (first match wins).
if (config.transport === 'socket.io') app.useStaticAssets(join(root, 'apps', 'sample', 'public', 'io'));
app.useStaticAssets(join(root, 'apps', 'sample', 'public'));
app.useStaticAssets(join(root, 'libs', 'tracing-ws-client', 'dist'), { prefix: '/vendor/tracing-ws-client/' });
const logger = app.get(Logger);
app.useLogger(logger);
app.useWebSocketAdapter(await chatAdapter(app, config.transport));
await app.listen(config.port, config.host);
const address = app.getHttpServer().address();
PinoLogger.root.info({ port: typeof address === 'object' && address ? address.port : config.port, transport: config.transport }, 'sample.listening');

// SIGTERM / SIGINT: close gracefully (new upgrades get 503, in-flight messages
// are answered, clients get 1001), flush spans, and exit 0. enableShutdownHooks
// would re-raise the signal after closing, so the exit code would not be 0.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    try {
      await app.close();
      await sdk.shutdown();
      PinoLogger.root.info({ signal }, 'sample.stopped');
      process.exit(0);
    } catch (err) {
      PinoLogger.root.error({ err, signal }, 'sample.stop_failed');
      process.exit(1);
    }
  });
}
