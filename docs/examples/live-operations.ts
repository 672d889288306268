// app.module.ts: the admin surface (live operations), for operators only
import { ForbiddenException, Injectable, Module, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { TracingWsAdminModule, TracingWsModule } from '@tracing-ws/nestjs';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Your operators' check; here one bearer token from the environment, compared in constant time. */
@Injectable()
class OperatorGuard implements CanActivate {
  private readonly expected = digest(process.env.ADMIN_TOKEN ?? '');

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    if (!header) throw new UnauthorizedException();
    const token = /^Bearer (\S+)$/.exec(header)?.[1] ?? '';
    if (!process.env.ADMIN_TOKEN || !timingSafeEqual(digest(token), this.expected)) throw new ForbiddenException();
    return true;
  }
}

@Module({
  imports: [
    TracingWsModule.forRoot({ broadcast: { redis: { url: process.env.REDIS_URL ?? 'redis://localhost:6379' } } }),
    TracingWsAdminModule.forRoot({ path: 'admin', guard: OperatorGuard, maxWatches: 5, eventsPerSecond: 100 }),
  ],
})
export class AppModule {}
