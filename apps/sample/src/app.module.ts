import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { pino } from 'pino';
import { TracingWsAdminModule, TracingWsMetricsController, TracingWsModule, WS_LOG_REDACT_PATHS, wsLogMixin, wsRequestSerializer } from '@tracing-ws/nestjs';
import { SampleAdminGuard } from './admin.guard.js';
import { ChatRooms } from './chat/chat.rooms.js';
import { chatGateways } from './chat/chat.transport.js';
import { ModerationClient, ModerationController } from './chat/moderation.js';
import { RoomsController } from './chat/rooms.controller.js';
import { loadConfig } from './config.js';
import { TokenAuthService } from './token-auth.service.js';

const config = loadConfig();

@Module({
  providers: [TokenAuthService],
  exports: [TokenAuthService],
})
class AuthModule {}

@Module({
  imports: [
    LoggerModule.forRoot({
      pinoHttp: [
        {
          level: config.logLevel,
          // trace_id / span_id / connection_id on every line, HTTP and WebSocket.
          mixin: wsLogMixin,
          // Tokens (header, query, subprotocol) and cookies never reach a log line.
          redact: { paths: [...WS_LOG_REDACT_PATHS], censor: '[redacted]' },
          // Bounded header values and URL, free of control and bidi characters, token query redacted.
          serializers: { req: wsRequestSerializer },
          autoLogging: { ignore: (req) => req.url === '/metrics' || req.url === '/health' },
        },
        // Synchronous writes to stdout. pino's default (asynchronous) stdout flushes at
        // exit and, when whatever read the logs is gone (Ctrl-C on `npm start | jq`),
        // retries that flush forever: the process never exits and keeps its port.
        pino.destination({ dest: 1, sync: true }),
      ],
    }),
    // Prometheus text for curl and most tools; OpenMetrics, with the trace ids of
    // ws_message_duration_seconds buckets as exemplars, for Prometheus (it asks for it).
    PrometheusModule.register({ path: '/metrics', controller: TracingWsMetricsController }),
    TracingWsModule.forRootAsync({
      imports: [AuthModule],
      inject: [TokenAuthService],
      useFactory: (auth: TokenAuthService) => ({
        requireAuth: true,
        authenticate: ({ token }) => auth.verify(token),
        allowedOrigins: config.allowedOrigins,
        // One line per message at info (the library's default is debug), so that the
        // trace id the page shows next to a message finds it at LOG_LEVEL=info.
        messageLogLevel: config.messageLogLevel,
        // One address cannot take every connection slot (issue of a shared host: raise it, or trust the proxy).
        maxConnectionsPerIp: config.maxConnectionsPerIp,
        // Several instances behind a load balancer share rooms through Redis.
        // A room history, so that a page that was away shows the messages sent meanwhile
        // (the ws page recovers through @tracing-ws/client; the socket.io page does not track positions).
        broadcast: {
          ...(config.redisUrl ? { redis: { url: config.redisUrl, presenceTtlMs: config.redisPresenceTtlMs } } : {}),
          ...(config.historySize > 0 && config.transport !== 'socket.io' ? { history: { size: config.historySize } } : {}),
        },
      }),
    }),
    // Live operations, only with SAMPLE_ADMIN_TOKEN: find a user's sessions on every instance,
    // watch them, disconnect them (README, "Live operations"; the page is public/admin).
    ...(config.adminToken ? [TracingWsAdminModule.forRoot({ path: 'admin', guard: SampleAdminGuard })] : []),
  ],
  controllers: [RoomsController, ModerationController],
  // The chat on the transport TRANSPORT names (ws by default).
  providers: [...chatGateways(config.transport), ChatRooms, ModerationClient],
})
export class AppModule {}
