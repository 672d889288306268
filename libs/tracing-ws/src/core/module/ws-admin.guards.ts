import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { WS_LOG_FIELDS as F, WS_LOG_MESSAGES } from '../model/tracing-ws.names.js';
import { ADMIN_OPTIONS, ADMIN_REQUEST } from '../model/tracing-ws.tokens.js';
import type { ResolvedTracingWsAdminOptions } from '../options/tracing-ws-admin.options.js';
import { WsLogger } from '../telemetry/ws.logger.js';

type AdminHttpRequest = IncomingMessage & { originalUrl?: string; [ADMIN_REQUEST]?: boolean };

/**
 * Runs first on every admin route: marks the request as the admin surface's, so that
 * `http_request_duration_seconds` leaves it out (refused requests included). Internal.
 */
@Injectable()
export class WsAdminMarkGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    context.switchToHttp().getRequest<AdminHttpRequest>()[ADMIN_REQUEST] = true;
    return true;
  }
}

/**
 * Runs the application's `canActivate` hook: false refuses with 401 (no
 * `Authorization` header) or 403; a throw refuses with 403 and is logged with the
 * hook's name only (the request's headers may hold the credential). Internal.
 */
@Injectable()
export class WsAdminHookGuard implements CanActivate {
  constructor(
    @Inject(ADMIN_OPTIONS) private readonly options: ResolvedTracingWsAdminOptions,
    private readonly log: WsLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const hook = this.options.canActivate;
    if (!hook) return true;
    const req = context.switchToHttp().getRequest<AdminHttpRequest>();
    let allowed = false;
    try {
      allowed = (await hook({ method: req.method ?? 'GET', url: req.originalUrl ?? req.url ?? '', headers: req.headers })) === true;
    } catch (err) {
      const logger = this.log.logger;
      if (logger.isLevelEnabled('warn')) logger.warn({ [F.hook]: 'admin.canActivate', [F.errorMessage]: err instanceof Error ? err.name : 'thrown' }, WS_LOG_MESSAGES.hookFailed);
      throw new ForbiddenException();
    }
    if (allowed) return true;
    throw req.headers.authorization === undefined ? new UnauthorizedException() : new ForbiddenException();
  }
}
