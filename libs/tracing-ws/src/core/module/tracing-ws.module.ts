import { Inject, Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ClsModule } from 'nestjs-cls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { WsBroadcastMetrics } from '../telemetry/ws-broadcast.metrics.js';
import { WsHistoryMetrics } from '../telemetry/ws-history.metrics.js';
import { WsBroadcaster } from '../broadcast/ws.broadcaster.js';
import { WsConnectionLifecycle } from '../lifecycle/ws-connection.lifecycle.js';
import { WsContextService } from './ws-context.service.js';
import { WsHandshakeGuard } from '../handshake/ws-handshake.guard.js';
import { WsGatewayRegistry } from '../handshake/ws-gateway.registry.js';
import { WsHandshakeCheckMiddleware } from '../handshake/ws-handshake-check.middleware.js';
import { TracingWsExceptionFilter } from '../dispatch/tracing-ws-exception.filter.js';
import { WsFrameSender } from '../dispatch/ws-frame.sender.js';
import { WsMessageDispatcher } from '../dispatch/ws-message.dispatcher.js';
import { WsForeignConnections } from '../dispatch/ws-foreign.connections.js';
import { WsHeartbeat } from '../lifecycle/ws-heartbeat.js';
import { WsHttpShutdown } from '../lifecycle/http-shutdown.js';
import { WsAbusePolicy } from '../policy/ws-abuse.policy.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';
import { WsAdmission } from '../policy/ws-admission.js';
import { WsUnhandledRejections } from '../telemetry/ws-unhandled-rejections.js';
import { HttpMetricsMiddleware } from '../telemetry/http-metrics.middleware.js';
import { HttpClientErrors } from '../telemetry/http-client-errors.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsLiveTap } from '../telemetry/ws-live.tap.js';
import { WsClientReports } from '../dispatch/ws-client.reports.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import { RESOLVED_OPTIONS } from '../model/tracing-ws.tokens.js';
import { TRACING_WS_MODULE_OPTIONS, TracingWsConfigurableModule } from './tracing-ws.module-definition.js';
import { resolveTracingWsOptions } from '../options/resolve-options.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';

/**
 * Observable, guarded WebSocket gateways. Import once in the root module, then
 * install {@link TracingWsAdapter} on the app.
 *
 * Only `ClsModule` (not `ClsModule.forRoot`) is imported: forRoot registers a
 * global guard and interceptor on every handler, which alone costs ~40 % of a
 * gateway's throughput; the adapter enters the CLS context itself.
 *
 * @example
 * TracingWsModule.forRoot({ requireAuth: true, authenticate: ({ token }) => users.byToken(token) })
 *
 * @example
 * TracingWsModule.forRootAsync({
 *   imports: [AuthModule],
 *   inject: [AuthService],
 *   useFactory: (auth: AuthService) => ({ requireAuth: true, authenticate: ({ token }) => auth.verify(token) }),
 * })
 */
@Module({
  imports: [ClsModule],
  providers: [
    { provide: RESOLVED_OPTIONS, inject: [TRACING_WS_MODULE_OPTIONS], useFactory: resolveTracingWsOptions },
    WsLogger,
    WsMetrics,
    WsHandshakeGuard,
    WsConnectionLifecycle,
    WsMessageDispatcher,
    WsForeignConnections,
    WsHeartbeat,
    WsBackpressure,
    WsAbusePolicy,
    TracingWsExceptionFilter,
    WsContextService,
    WsFrameSender,
    WsBroadcaster,
    WsBroadcastMetrics,
    WsHistoryMetrics,
    HttpMetricsMiddleware,
    WsAdmission,
    WsUnhandledRejections,
    WsGatewayRegistry,
    WsHandshakeCheckMiddleware,
    WsHttpShutdown,
    HttpClientErrors,
    WsLiveTap,
    WsClientReports,
  ],
    // What a transport adapter resolves from the app, and what gateways inject.
  exports: [
    RESOLVED_OPTIONS,
    WsLogger,
    WsHandshakeGuard,
    WsConnectionLifecycle,
    WsMessageDispatcher,
    WsForeignConnections,
    WsHeartbeat,
    TracingWsExceptionFilter,
    WsContextService,
    WsBroadcaster,
    WsGatewayRegistry,
    WsLiveTap,
    ClsModule,
  ],
})
export class TracingWsModule extends TracingWsConfigurableModule implements NestModule {
  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedTracingWsOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly handshakeCheck: WsHandshakeCheckMiddleware,
  ) {
    super();
  }

  configure(consumer: MiddlewareConsumer): void {
    if (this.options.httpMetrics) consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*splat}', method: RequestMethod.ALL });
    // On the HTTP adapter itself, not through the consumer: consumer routes get the app's global
    // prefix, gateway paths never do. It runs before the app's routes (configure() precedes
    // them) and passes on every request but `<gateway path>/.tracing-ws/check`.
    const check = this.handshakeCheck;
    if (this.options.handshakeCheck.enabled) this.adapterHost.httpAdapter?.use((req: IncomingMessage, res: ServerResponse, next: () => void) => check.use(req, res, next));
  }
}
