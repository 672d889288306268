// app.module.ts, for several instances sharing one Redis
import { Module } from '@nestjs/common';
import { TracingWsModule } from '@tracing-ws/nestjs';

@Module({
  imports: [
    TracingWsModule.forRoot({
      broadcast: { redis: { url: process.env.REDIS_URL ?? 'redis://localhost:6379' } },
    }),
  ],
})
export class AppModule {}
