// app.module.ts, with options that need other providers
import { Module } from '@nestjs/common';
import { TracingWsModule } from '@tracing-ws/nestjs';
import { AuthModule, AuthService } from './auth.js';

@Module({
  imports: [
    TracingWsModule.forRootAsync({
      imports: [AuthModule],
      inject: [AuthService],
      useFactory: (auth: AuthService) => ({ requireAuth: true, authenticate: ({ token }) => auth.verify(token) }),
    }),
  ],
})
export class AppModule {}
