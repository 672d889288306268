// app.module.ts: the interceptor on every gateway at once (HTTP routes and messages the
// library's adapters already trace pass through it untouched)
import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TracingWsModule, WsTracingInterceptor } from '@tracing-ws/nestjs';

@Module({
  imports: [TracingWsModule.forRoot({ messageLogLevel: 'info' })],
  providers: [{ provide: APP_INTERCEPTOR, useClass: WsTracingInterceptor }],
})
export class AppModule {}
