// app.module.ts
import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { TracingWsMetricsController, TracingWsModule, wsLogMixin } from '@tracing-ws/nestjs';
import { ChatGateway } from './chat.gateway.js';
import { findUserByToken } from './users.js';

@Module({
  imports: [
    LoggerModule.forRoot({ pinoHttp: { mixin: wsLogMixin } }), // trace and connection ids on every line
    // serves /metrics: OpenMetrics with trace-id exemplars to Prometheus, plain text to others
    PrometheusModule.register({ controller: TracingWsMetricsController }),
    TracingWsModule.forRoot({
      allowedOrigins: ['https://app.example.com'],
      requireAuth: true,
      authenticate: ({ token }) => findUserByToken(token), // a user with an `id`, or null → 401
    }),
  ],
  providers: [ChatGateway],
})
export class AppModule {}
