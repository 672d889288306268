import { Inject, Injectable, Optional } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { sanitizeClientText } from '../model/client-text.js';
import { generateTraceId, normalizeTraceId, parseTraceparent, type WsTraceContext } from '../model/trace-context.js';
import { WS_LIVE_EVENT_TYPES as LIVE, WS_LOG_FIELDS as F, WS_LOG_MESSAGES, WS_SPAN_ATTRIBUTES as A } from '../model/tracing-ws.names.js';
import { RESOLVED_OPTIONS, TRACER_NAME } from '../model/tracing-ws.tokens.js';
import type { WsUser } from '../model/ws-connection.context.js';
import type { WsHandshakeRequest } from '../model/ws-handshake.request.js';
import { WS_NETWORK_PROTOCOLS, type WsTransportName } from '../model/ws-transport.js';
import { WS_HANDSHAKE_CHECK_SUFFIX } from '../model/ws-protocol.js';
import type { ResolvedTracingWsOptions, WsAuthRequest } from '../options/tracing-ws.options.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { chooseTraceId, handshakeLine } from '../telemetry/ws-log.fields.js';
import { WsLiveTap } from '../telemetry/ws-live.tap.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import type {
  WsAcceptedHandshake,
  WsCredential,
  WsHandshakeCheckMode,
  WsHandshakeCheckOutcome,
  WsHandshakeOutcome,
  WsRejectedHandshake,
  WsRejectionReason,
} from './ws-handshake.outcome.js';

const MAX_TOKEN = 8192;
/** What {@link WsHandshakeGuard.checkTransport} returns internally when the transport-level checks pass. */
const TRANSPORT_PASSED = Symbol('transport-passed');
const BEARER = /^bearer\s+(\S+)$/i;
const SUBPROTOCOL_PREFIX = 'bearer.';

/**
 * Runs for every connection request, before the transport accepts it: origin
 * allow-list, trace context, authentication, connection limits. It sees the
 * request through a transport-neutral {@link WsHandshakeRequest}. Subclass it
 * and override the protected hooks to change one step (see README "Extending
 * the guard").
 */
@Injectable()
export class WsHandshakeGuard {
  protected readonly tracer: Tracer = trace.getTracer(TRACER_NAME);
  private tracingChecked = false;
  /** Refusals for `handshake_limit` so far: one in {@link LIMIT_LOG_EVERY} is logged. */
  private limitRefusals = 0;
  /**
   * The admin surface's live trace (a refusal that knows its user is shown to its
   * watches). Injected as a property so that subclasses keep their constructors.
   */
  @Optional() @Inject(WsLiveTap) private readonly liveTap?: WsLiveTap;

  constructor(
    @Inject(RESOLVED_OPTIONS) protected readonly options: ResolvedTracingWsOptions,
    protected readonly metrics: WsMetrics,
    protected readonly log: WsLogger,
    protected readonly admission: WsAdmission,
  ) {}

  /**
   * Checks one connection request for gateway `path`. Never throws. With
   * `dryRun` (the handshake check endpoint, see {@link probe}) an accepted
   * request takes no slot and its span is ended here.
   */
  async check(request: WsHandshakeRequest, path: string, { dryRun = false }: WsHandshakeCheckMode = {}): Promise<WsHandshakeOutcome> {
    return (await this.run(request, path, false, dryRun)) as WsHandshakeOutcome;
  }

  /**
   * The checks a transport can make on the bare HTTP request, before the client's
   * connection payload exists (socket.io's engine.io middleware sees no `auth`): drain,
   * origin, connection limits (without taking a slot). A refusal is recorded like
   * any other; undefined means "go on to {@link check}". Never throws.
   */
  async checkTransport(request: WsHandshakeRequest, path: string): Promise<WsRejectedHandshake | undefined> {
    const outcome = await this.run(request, path, true, false);
    return outcome === TRANSPORT_PASSED ? undefined : (outcome as WsRejectedHandshake);
  }

  private async run(request: WsHandshakeRequest, path: string, transportOnly: boolean, dryRun: boolean): Promise<WsHandshakeOutcome | typeof TRANSPORT_PASSED> {
    const startedAt = performance.now();
    const startTime = performance.timeOrigin + startedAt;
    const url = parseRequestUrl(request.url);
    const incoming = this.safely(() => this.extractTraceContext(request, url));
    // A bare trace id has no parent span: a random one stands in, and the session
    // is sampled, since whoever sent an id wants to find it.
    const parent = incoming
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: incoming.traceId,
          spanId: incoming.spanId ?? generateTraceId().slice(0, 16),
          traceFlags: incoming.spanId ? incoming.traceFlags : TraceFlags.SAMPLED,
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const remoteAddress = this.clientAddress(request);
    const userAgent = sanitizeClientText(request.headers['user-agent']);
    // The span is created once the user is known, back-dated to the start of the
    // handshake, so that a sampler sees `enduser.id` and can keep a chosen user's
    // whole session (WsForceSampler).
    const urlPath = dryRun ? `${path === '/' ? '' : path}${WS_HANDSHAKE_CHECK_SUFFIX}` : path;
    const startSpan = (attributes: Record<string, string | number | boolean>): Span => this.checkTracing(this.tracer.startSpan(
        `GET ${urlPath}`,
        {
          kind: SpanKind.SERVER,
          startTime,
          attributes: {
            [A.httpMethod]: 'GET',
            [A.urlPath]: urlPath,
            ...(remoteAddress ? { [A.clientAddress]: remoteAddress } : {}),
            [A.networkProtocolName]: WS_NETWORK_PROTOCOLS[request.transport],
            [A.networkTransport]: 'tcp',
            ...(request.remoteAddress ? { [A.networkPeerAddress]: request.remoteAddress } : {}),
            ...(request.remotePort !== undefined ? { [A.networkPeerPort]: request.remotePort } : {}),
            ...(userAgent ? { [A.userAgent]: userAgent } : {}),
            ...attributes,
          },
        },
        parent,
      ));
    // The trace id used only when the span context is invalid (no SDK, or a non-recording
    // one): made on first read, so a handshake with a real span pays nothing for it.
    let fallbackTraceId: string | undefined;
    const fallback = {
      get traceId(): string {
        return (fallbackTraceId ??= incoming?.traceId ?? generateTraceId());
      },
    };
    // A hook's failure is logged once the handshake's span exists, so that its line
    // carries the same trace id as the refusal and the X-Trace-ID the client gets.
    const failures: Array<{ level: 'warn' | 'error'; msg: string; err: unknown; hook?: string }> = [];
    const logFailures = (span: Span, traceId: string): void => {
      for (const { level, msg, err, hook } of failures) {
        const fields = handshakeLine(span.spanContext(), traceId, path, request.transport);
        fields[F.error] = err;
        if (hook) fields[F.hook] = hook;
        this.log.logger[level](fields, msg);
      }
    };
    const reject = (status: number, reason: WsRejectionReason, hint?: string, retryAfterSeconds?: number): WsRejectedHandshake => {
      const span = startSpan({});
      const traceId = chooseTraceId(span.spanContext(), undefined, fallback);
      logFailures(span, traceId);
      // The client's fault counts against its address's failure budget (a check's does not: it has its own limit).
      if (!dryRun && CLIENT_FAULTS.has(reason)) this.admission.handshakeFailed(remoteAddress);
      this.finishRejected(span, path, request.transport, startedAt, status, reason, traceId, dryRun, remoteAddress);
      return { accepted: false, status, reason, traceId, hint, retryAfterSeconds };
    };

    try {
      if (this.admission.isDraining) return reject(503, 'shutting_down');
      // Before anything that costs the application (the authenticate hook): an address
      // that used up its failed-handshake budget waits.
      const blocked = dryRun ? undefined : this.admission.handshakeBlocked(remoteAddress);
      if (blocked !== undefined) return reject(429, 'handshake_limit', HANDSHAKE_LIMIT_HINT, blocked);
      const origin = sanitizeClientText(request.headers.origin);
      // Browsers send no Origin on a same-origin GET: a check cannot tell a page from a
      // native client, so only an Origin it was given is judged.
      const judgeOrigin = !dryRun || request.headers.origin !== undefined;
      if (judgeOrigin && !this.isOriginAllowed(request.headers.origin, request)) return reject(403, 'origin_not_allowed');
      if (transportOnly) {
        const refusal = this.admission.wouldRefuse(remoteAddress);
        return refusal ? reject(refusal.status, refusal.reason) : TRANSPORT_PASSED;
      }

      // A browser offering only `bearer.<token>` drops the connection when no protocol is
      // selected, and selecting that entry would echo the token in the 101: refuse it here.
      if (!dryRun && offersOnlyBearerSubprotocol(request.headers['sec-websocket-protocol'])) {
        return reject(400, 'bearer_only_subprotocol', BEARER_ONLY_HINT);
      }
      let user: WsUser | undefined;
      const credential = this.extractCredential(request, url);
      if (credential) {
        try {
          user = (await this.authenticate({ token: credential.token, source: credential.source, request })) ?? undefined;
        } catch (err) {
          failures.push({ level: 'error', msg: WS_LOG_MESSAGES.authHookFailed, err });
          return reject(500, 'auth_error');
        }
        if (!user || typeof user.id !== 'string') return reject(401, 'invalid_credentials');
      } else if (this.options.requireAuth) {
        return reject(401, 'missing_credentials');
      }

      let forceSample = false;
      try {
        forceSample = !dryRun && (await this.forceSampleRequested(request, url, user));
      } catch (err) {
        // A faulty hook samples nothing more: the handshake goes on.
        failures.push({ level: 'warn', msg: WS_LOG_MESSAGES.hookFailed, err, hook: 'allowForceSampling' });
      }
      // Last, so that a slot is only taken by a handshake that passed every other check.
      const refusal = dryRun ? this.admission.wouldRefuse(remoteAddress) : this.admission.acquire(remoteAddress);
      if (refusal) {
        const rejected = reject(refusal.status, refusal.reason);
        // The only refusal that knows its user: a watch of that user sees it.
        if (user && !dryRun && this.liveTap?.hot) this.liveTap.emitForUser(user.id, LIVE.handshakeRejected, { [F.status]: rejected.status, [F.reason]: rejected.reason, [F.traceId]: rejected.traceId, [F.path]: path, [F.transport]: request.transport });
        return rejected;
      }
      const connectionId = randomUUID();
      const span = startSpan({
        [A.connectionId]: connectionId,
        ...(user ? { [A.enduserId]: user.id } : {}),
        ...(forceSample ? { [A.forceSample]: true } : {}),
      });
      const traceId = chooseTraceId(span.spanContext(), undefined, fallback);
      logFailures(span, traceId);
      if (dryRun) {
        span.setAttribute(A.httpStatusCode, 200);
        span.end();
      }
      return { accepted: true, connectionId, traceId, span, user, remoteAddress, peer: { address: request.remoteAddress, port: request.remotePort }, userAgent, origin, path, transport: request.transport, startedAt, forceSample };
    } catch (err) {
      // A faulty override must refuse one handshake, not crash the server.
      failures.push({ level: 'error', msg: WS_LOG_MESSAGES.handshakeRejected, err });
      return reject(500, 'internal_error');
    }
  }

  /**
   * The handshake check endpoint's answer for a request to `<path>/.tracing-ws/check`:
   * the checks of an upgrade with the same credential and trace context ({@link check}
   * with `dryRun`), after the per-address check limit, which runs first so that a flood
   * of checks costs no `authenticate` call. Refusals are logged and counted as the
   * upgrade's are (with `handshake_check: true`); checks over the limit are neither.
   */
  async probe(request: WsHandshakeRequest, path: string): Promise<WsHandshakeCheckOutcome> {
    const retryAfterSeconds = this.admission.admitCheck(this.safely(() => this.clientAddress(request)));
    if (retryAfterSeconds !== undefined) return { status: 429, reason: 'check_limit', traceId: null, retryAfterSeconds };
    const outcome = await this.check(request, path, { dryRun: true });
    if (outcome.accepted) return { status: 200, reason: null, traceId: outcome.traceId, retryAfterSeconds: undefined };
    return { status: outcome.status, reason: outcome.reason, traceId: outcome.traceId, retryAfterSeconds: undefined };
  }

  /** Ends the handshake span of an accepted request, once the transport has accepted the connection. */
  finishAccepted(handshake: WsAcceptedHandshake): void {
    handshake.span.setAttribute(A.httpStatusCode, 101);
    handshake.span.end();
    this.metrics.gateway(handshake.path, handshake.transport).handshakeDuration.observe((performance.now() - handshake.startedAt) / 1000);
  }

  /** A request that passed but never became a connection (the peer went away first): gives its slot back. */
  abandon(handshake: WsAcceptedHandshake): void {
    this.admission.release(handshake.remoteAddress);
    handshake.span.end();
  }

  /**
   * Whether `origin` may connect; an empty allow-list allows every origin, and a
   * request without `Origin` (not a browser's) passes unless `allowMissingOrigin` is off.
   */
  protected isOriginAllowed(origin: string | string[] | undefined, _request: WsHandshakeRequest): boolean {
    const allowed = this.options.allowedOrigins;
    if (allowed.length === 0) return true;
    if (origin === undefined) return this.options.allowMissingOrigin;
    if (typeof origin !== 'string') return false;
    return allowed.some((a) => (typeof a === 'string' ? a === origin : a.test(origin)));
  }

  /**
   * The incoming trace context, first match wins: `traceparent` header,
   * `X-Trace-ID` header, `traceparent` then `traceId` of the connection payload
   * (socket.io's `auth`), `traceparent` then `traceId` query parameter.
   * Invalid values are skipped, never echoed.
   */
  protected extractTraceContext(request: WsHandshakeRequest, url: URL | undefined): WsTraceContext | undefined {
    const fromId = (value: unknown): WsTraceContext | undefined => {
      const traceId = normalizeTraceId(value);
      return traceId ? { traceId, spanId: undefined, traceFlags: TraceFlags.SAMPLED } : undefined;
    };
    const query = url?.searchParams;
    return (
      parseTraceparent(request.headers.traceparent) ??
      fromId(request.headers['x-trace-id']) ??
      parseTraceparent(request.auth?.traceparent) ??
      fromId(request.auth?.traceId) ??
      parseTraceparent(query?.get('traceparent') ?? undefined) ??
      fromId(query?.get('traceId') ?? undefined)
    );
  }

  /**
   * The bearer credential, first match wins: `Authorization` header, `token` of the
   * connection payload (socket.io's `auth`), `access_token` query parameter, or
   * `bearer.<token>` subprotocol.
   */
  protected extractCredential(request: WsHandshakeRequest, url: URL | undefined): WsCredential | undefined {
    const usable = (token: string | null | undefined): token is string => !!token && token.length <= MAX_TOKEN;
    const header = request.headers.authorization;
    if (typeof header === 'string' && header.length <= MAX_TOKEN + 7) {
      const m = BEARER.exec(header);
      if (m && usable(m[1])) return { token: m[1], source: 'header' };
    }
    const fromAuth = request.auth?.token;
    if (typeof fromAuth === 'string' && usable(fromAuth)) return { token: fromAuth, source: 'auth' };
    const query = url?.searchParams.get('access_token');
    if (usable(query)) return { token: query, source: 'query' };
    const protocols = request.headers['sec-websocket-protocol'];
    if (typeof protocols === 'string') {
      for (const entry of protocols.split(',')) {
        const p = entry.trim();
        if (p.startsWith(SUBPROTOCOL_PREFIX) && usable(p.slice(SUBPROTOCOL_PREFIX.length))) {
          return { token: p.slice(SUBPROTOCOL_PREFIX.length), source: 'subprotocol' };
        }
      }
    }
    return undefined;
  }

  /** Turns a credential into a user; the default calls the `authenticate` option. */
  protected async authenticate(request: WsAuthRequest): Promise<WsUser | null | undefined> {
    return this.options.authenticate ? this.options.authenticate(request) : undefined;
  }

  /** The client's address: the TCP peer's, or the first `X-Forwarded-For` hop when `trustProxy` is on. */
  protected clientAddress(request: WsHandshakeRequest): string | undefined {
    if (this.options.trustProxy) {
      const xff = request.headers['x-forwarded-for'];
      const first = typeof xff === 'string' ? xff.slice(0, 512).split(',')[0]?.trim() : undefined;
      if (first && isIP(first)) return first;
    }
    return request.remoteAddress;
  }

  /** Whether the handshake asks for force-sampling and the app's hook allows this user. A throw is logged and counts as no. */
  protected async forceSampleRequested(request: WsHandshakeRequest, url: URL | undefined, user: WsUser | undefined): Promise<boolean> {
    const hook = this.options.allowForceSampling;
    if (!hook) return false;
    const asked = request.headers['x-force-sample'] === '1' || url?.searchParams.get('forceSample') === '1';
    if (!asked) return false;
    return (await hook(user, request)) === true;
  }

  /**
   * Warns once, at the first handshake (the SDK may start after the module), when
   * no OpenTelemetry SDK is registered: spans are then no-ops, replies carry the
   * handshake's trace id, and log lines have no span_id.
   */
  private checkTracing(span: Span): Span {
    if (this.tracingChecked) return span;
    this.tracingChecked = true;
    if (!trace.isSpanContextValid(span.spanContext())) {
      this.log.logger.warn(
        { [F.fix]: 'Start an OpenTelemetry SDK before the app (e.g. new NodeSDK().start() from @opentelemetry/sdk-node, as the sample\'s telemetry.ts does).' },
        WS_LOG_MESSAGES.tracingOff,
      );
    }
    return span;
  }

  private safely<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch {
      return undefined;
    }
  }

  private finishRejected(span: Span, path: string, transport: WsTransportName, startedAt: number, status: number, reason: WsRejectionReason, traceId: string, dryRun: boolean, remoteAddress: string | undefined): void {
    span.setAttribute(A.httpStatusCode, status);
    span.setAttribute(A.rejectionReason, reason);
    span.setAttribute(A.errorType, reason);
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
    span.end();
    const gateway = this.metrics.gateway(path, transport);
    gateway.rejected(reason);
    // The duration histogram is the upgrade's: a check's time would skew it.
    if (!dryRun) gateway.handshakeDuration.observe((performance.now() - startedAt) / 1000);
    // A flood past the failure limit is counted in full and logged one line in a hundred.
    if (reason === 'handshake_limit' && this.limitRefusals++ % LIMIT_LOG_EVERY !== 0) return;
    const fields = handshakeLine(span.spanContext(), traceId, path, transport);
    fields[F.reason] = reason;
    fields[F.status] = status;
    // The address as trusted (trustProxy), so that an abuser can be found from the logs.
    if (remoteAddress) fields[F.remoteAddress] = remoteAddress;
    if (reason === 'handshake_limit') fields[F.sampled] = `1/${LIMIT_LOG_EVERY}`;
    if (dryRun) fields[F.handshakeCheck] = true;
    this.log.logger.warn(fields, WS_LOG_MESSAGES.handshakeRejected);
  }
}

/** Refusals that are the client's fault: they count against its address's failure budget. */
const CLIENT_FAULTS: ReadonlySet<WsRejectionReason> = new Set(['origin_not_allowed', 'missing_credentials', 'invalid_credentials', 'bearer_only_subprotocol']);
const LIMIT_LOG_EVERY = 100;
const HANDSHAKE_LIMIT_HINT = 'Too many failed handshakes from this address; retry after the time in Retry-After.';

const BEARER_ONLY_HINT = 'Offer another subprotocol (for example "json") along with bearer.<token>: the server never selects the bearer entry.';

/** Whether a Sec-WebSocket-Protocol header offers subprotocols, all of them `bearer.<token>`. */
function offersOnlyBearerSubprotocol(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string' || header.trim() === '') return false;
  return header.split(',').every((entry) => entry.trim().startsWith(SUBPROTOCOL_PREFIX));
}

function parseRequestUrl(target: string): URL | undefined {
  try {
    return new URL(target || '/', 'http://localhost');
  } catch {
    return undefined;
  }
}
