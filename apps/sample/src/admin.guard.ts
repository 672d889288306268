import { ForbiddenException, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { loadConfig } from './config.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * The sample's operator check for the admin surface: `Authorization: Bearer
 * <SAMPLE_ADMIN_TOKEN>`, compared in constant time (digests of equal length). No
 * header: 401; any other credential: 403. Replace with your operators' identity provider.
 */
@Injectable()
export class SampleAdminGuard implements CanActivate {
  private readonly expected = digest(loadConfig().adminToken ?? '');

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<IncomingMessage>().headers.authorization;
    if (header === undefined) throw new UnauthorizedException();
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    if (token === undefined || !timingSafeEqual(digest(token), this.expected)) throw new ForbiddenException();
    return true;
  }
}
