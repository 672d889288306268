import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { TracingWsModule, wsLogMixin } from '@tracing-ws/nestjs';
import { ChatGateway } from './chat/chat.gateway.js';
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
      pinoHttp: {
        level: config.logLevel,
        // trace_id / span_id / connection_id on every line, HTTP and WebSocket.
        mixin: wsLogMixin,
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]', 'res.headers["set-cookie"]'], censor: '[redacted]' },
        serializers: {
          // Tokens in query strings never reach a log line.
          req: (req: { url?: string }) => ({ ...req, url: req.url?.replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]') }),
        },
        autoLogging: { ignore: (req) => req.url === '/metrics' || req.url === '/health' },
      },
    }),
    PrometheusModule.register({ path: '/metrics' }),
    TracingWsModule.forRootAsync({
      imports: [AuthModule],
      inject: [TokenAuthService],
      useFactory: (auth: TokenAuthService) => ({
        requireAuth: true,
        authenticate: ({ token }) => auth.verify(token),
        allowedOrigins: config.allowedOrigins,
      }),
    }),
  ],
  controllers: [RoomsController],
  providers: [ChatGateway],
})
export class AppModule {}
