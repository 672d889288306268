import { Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { TracingWsModule, wsLogMixin, type WsAuthRequest } from '@tracing-ws/nestjs';
import { ProbeGateway } from './probe.gateway.js';
import { SpansController } from './spans.controller.js';

const USERS: Record<string, string> = { 'alice-token': 'alice' };

@Module({
  imports: [
    LoggerModule.forRoot({ pinoHttp: { name: 'compat-nest12', level: 'info', mixin: wsLogMixin, autoLogging: false } }),
    PrometheusModule.register({ path: '/metrics' }),
    TracingWsModule.forRoot({
      requireAuth: true,
      authenticate: ({ token }: WsAuthRequest) => (USERS[token] ? { id: USERS[token] } : null),
    }),
  ],
  controllers: [SpansController],
  providers: [ProbeGateway],
})
export class AppModule {}
