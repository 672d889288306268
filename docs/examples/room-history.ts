// app.module.ts: a room history kept in Redis Streams, shared by every instance
import { Module } from '@nestjs/common';
import { TracingWsModule } from '@tracing-ws/nestjs';

@Module({
  imports: [
    TracingWsModule.forRoot({
      broadcast: {
        redis: { url: process.env.REDIS_URL ?? 'redis://localhost:6379' },
        // The last 500 broadcasts of each room, for at most 10 minutes.
        history: { size: 500, ttlMs: 10 * 60 * 1000 },
      },
    }),
  ],
})
export class AppModule {}
