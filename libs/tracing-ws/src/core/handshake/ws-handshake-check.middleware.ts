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
 * A page on another origin may read the answer, with its cookies sent as they are
 * with the upgrade (CORS with credentials, for the requesting origin): the check
 * judges that `Origin` itself before any credential (a disallowed one learns
 * nothing but its 403), and an allowed one could open the connection anyway.
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
    const cors = corsHeaders(req.headers.origin);
    if (req.method === 'OPTIONS') return preflight(res, cors);
    if (req.method !== 'GET') return next();
    // The guard sees the request as it would see the upgrade: the gateway's URL, with the same query.
    const request: WsHandshakeRequest = { headers: req.headers, url: `${gateway}${target.search}`, remoteAddress: req.socket.remoteAddress, transport: 'ws', auth: undefined, raw: req };
    this.guard.probe(request, gateway).then(
      (outcome) => {
        const headers: Record<string, string> = { ...cors };
        if (outcome.traceId) headers['X-Trace-ID'] = outcome.traceId;
        if (outcome.retryAfterSeconds !== undefined) headers['Retry-After'] = String(outcome.retryAfterSeconds);
        answer(res, { status: outcome.status, reason: outcome.reason, traceId: outcome.traceId }, headers);
      },
      // probe() never rejects; a subclass's override might.
      () => answer(res, { status: 500, reason: 'internal_error', traceId: null }, cors),
    );
  }
}

/** The gateway path a check path belongs to, or undefined for any other path. */
function gatewayOf(pathname: string): string | undefined {
  if (!pathname.endsWith(WS_HANDSHAKE_CHECK_SUFFIX)) return undefined;
  return pathname.slice(0, -WS_HANDSHAKE_CHECK_SUFFIX.length) || '/';
}

/** The path and query of a request target; undefined (cheaply) for any path that cannot be a check's. */
function splitTarget(target: string): { pathname: string; search: string } | undefined {
  // Every HTTP request of the app comes through here: most leave after this test, unparsed.
  const query = target.indexOf('?');
  if (!(query < 0 ? target : target.slice(0, query)).endsWith(WS_HANDSHAKE_CHECK_SUFFIX)) return undefined;
  try {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}

function corsHeaders(origin: string | undefined): Record<string, string> {
  // Browsers send a single serialized origin; anything else gets no CORS headers.
  if (typeof origin !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^\s,/]+$|^null$/i.test(origin)) return { Vary: 'Origin' };
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', 'Access-Control-Expose-Headers': 'Retry-After, X-Trace-ID', Vary: 'Origin' };
}

function preflight(res: ServerResponse, cors: Record<string, string>): void {
  res.writeHead(204, {
    ...cors,
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
  });
  res.end(body);
}
