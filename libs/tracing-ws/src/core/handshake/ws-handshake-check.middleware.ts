import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WS_HANDSHAKE_CHECK_SUFFIX } from '../model/ws-protocol.js';
import type { WsHandshakeRequest } from '../model/ws-handshake.request.js';
import { WsGatewayRegistry } from './ws-gateway.registry.js';
import { WsHandshakeGuard } from './ws-handshake.guard.js';
import type { WsHandshakeCheckResult } from './ws-handshake.outcome.js';

type HttpRequest = IncomingMessage & { originalUrl?: string };

/** Headers a cross-origin page may send with a check: the credential and the trace context. */
const ALLOWED_HEADERS = 'authorization, traceparent, tracestate, x-trace-id';

/**
 * Serves `GET <gateway path>/.tracing-ws/check` for the gateways in
 * {@link WsGatewayRegistry}: the guard's checks of an upgrade with the same
 * credential and trace context, without a connection ({@link WsHandshakeGuard.probe}),
 * answered as JSON `{ status, reason, traceId }` with that status. Every other
 * request goes on to the application untouched.
 *
 * Any origin may read the answer (CORS `*`, without cookies): the check judges
 * the `Origin` itself, and tells a caller nothing but what its own credential
 * and origin would get.
 */
@Injectable()
export class WsHandshakeCheckMiddleware implements NestMiddleware {
  constructor(
    private readonly guard: WsHandshakeGuard,
    private readonly gateways: WsGatewayRegistry,
  ) {}

  use(req: HttpRequest, res: ServerResponse, next: () => void): void {
    const target = splitTarget(req.originalUrl ?? req.url ?? '/');
    const gateway = target && gatewayOf(target.pathname);
    if (!target || gateway === undefined || !this.gateways.has(gateway)) return next();
    if (req.method === 'OPTIONS') return preflight(res);
    if (req.method !== 'GET') return next();
    // The guard sees the request as it would see the upgrade: the gateway's URL, with the same query.
    const request: WsHandshakeRequest = { headers: req.headers, url: `${gateway}${target.search}`, remoteAddress: req.socket.remoteAddress, raw: req };
    this.guard.probe(request, gateway).then(
      (outcome) => {
        const headers: Record<string, string> = {};
        if (outcome.traceId) headers['X-Trace-ID'] = outcome.traceId;
        if (outcome.retryAfterSeconds !== undefined) headers['Retry-After'] = String(outcome.retryAfterSeconds);
        answer(res, { status: outcome.status, reason: outcome.reason, traceId: outcome.traceId }, headers);
      },
      // probe() never rejects; a subclass's override might.
      () => answer(res, { status: 500, reason: 'internal_error', traceId: null }, {}),
    );
  }
}

/** The gateway path a check path belongs to, or undefined for any other path. */
function gatewayOf(pathname: string): string | undefined {
  if (!pathname.endsWith(WS_HANDSHAKE_CHECK_SUFFIX)) return undefined;
  return pathname.slice(0, -WS_HANDSHAKE_CHECK_SUFFIX.length) || '/';
}

function splitTarget(target: string): { pathname: string; search: string } | undefined {
  try {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

function answer(res: ServerResponse, result: WsHandshakeCheckResult, headers: Record<string, string>): void {
  if (res.headersSent) return;
  const body = JSON.stringify(result);
  res.writeHead(result.status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Retry-After, X-Trace-ID',
  });
  res.end(body);
}
