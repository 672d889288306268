// handshake-guard.ts
import { Injectable } from '@nestjs/common';
import { TracingWsModule, WsHandshakeGuard, type WsCredential, type WsHandshakeRequest } from '@tracing-ws/nestjs';
import { findUserByToken } from './users.js';

@Injectable()
export class CookieHandshakeGuard extends WsHandshakeGuard {
  // Also accept the session cookie a browser sends with the upgrade.
  protected override extractCredential(request: WsHandshakeRequest, url: URL | undefined): WsCredential | undefined {
    const session = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    return session ? { token: session, source: 'header' } : super.extractCredential(request, url);
  }
}

export const GuardedTracingModule = TracingWsModule.forRoot({
  requireAuth: true,
  authenticate: ({ token }) => findUserByToken(token),
  guard: CookieHandshakeGuard,
});
