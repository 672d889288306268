// The public API of @tracing-ws/nestjs: the core, and the ws transport. Every name
// here is documented in the README; test/architecture/public-api checks this list.

// Module and options
export { TracingWsModule } from './core/module/tracing-ws.module.js';
export type { TracingWsModuleExtras } from './core/module/tracing-ws.module-definition.js';
export type {
  TracingWsModuleOptions,
  TracingWsMetricsOptions,
  TracingWsBroadcastOptions,
  TracingWsRedisOptions,
  TracingWsHistoryOptions,
  TracingWsHeartbeatOptions,
  TracingWsInvalidFrameOptions,
  TracingWsRateLimitOptions,
  TracingWsBackpressureOptions,
  TracingWsShutdownOptions,
  TracingWsHandshakeCheckOptions,
  WsAuthenticateHook,
  WsAuthRequest,
  WsCredentialSource,
  WsForceSampleHook,
  WsMessageSpanHook,
  WsMessageSpanInfo,
  WsTraceMode,
  WsLogLevel,
} from './core/options/tracing-ws.options.js';

// Handshake guard (subclass it to change one step)
export { WsHandshakeGuard } from './core/handshake/ws-handshake.guard.js';
export type { WsCredential, WsHandshakeCheckResult } from './core/handshake/ws-handshake.outcome.js';
export type { WsHandshakeRequest } from './core/model/ws-handshake.request.js';
export type { WsTraceContext } from './core/model/trace-context.js';

// Context
export { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from './core/model/tracing-ws.constants.js';
export type { WsConnectionContext, WsMessageContext, WsUser, WsUserFields, WsUserTypes } from './core/model/ws-connection.context.js';
export { WsContextService } from './core/module/ws-context.service.js';
export { WsConnection } from './core/module/ws-connection.decorator.js';

// Gateways, frames and errors
export { TracedGateway } from './core/dispatch/traced-gateway.decorator.js';
export { WsTracingInterceptor } from './core/dispatch/ws-tracing.interceptor.js';
export {
  WS_CLOSE_CODES,
  WS_ERROR_CODES,
  WS_ROOM_EVENTS,
  type WsErrorCode,
  type WsErrorData,
  type WsFrame,
  type WsFrameMeta,
  type WsRecoveryFailure,
  type WsRoomPosition,
} from './core/model/ws-protocol.js';

// Broadcasts and presence
export { WsBroadcaster } from './core/broadcast/ws.broadcaster.js';
export type { WsBroadcastBackendState, WsBroadcastTarget, WsOnlineConnection, WsPresenceResult, WsRoomMember } from './core/broadcast/ws-broadcast.types.js';

// Live operations (the opt-in admin surface)
export { TracingWsAdminModule } from './core/module/tracing-ws-admin.module.js';
export type { TracingWsAdminOptions, WsAdminAccessHook, WsAdminRequest } from './core/options/tracing-ws-admin.options.js';
export type { WsAdminConnection } from './core/admin/ws-admin.snapshot.js';
export { WS_CLIENT_REPORT_EVENT } from './core/model/ws-protocol.js';

// Telemetry helpers
export { wsLogMixin } from './core/telemetry/ws-log.mixin.js';
export { redactUrlSecrets, WS_LOG_REDACT_PATHS, wsRequestSerializer } from './core/telemetry/ws-log.redact.js';
export { WsForceSampler, type WsSamplerLike } from './core/telemetry/ws-force.sampler.js';
export { WsSessionSampler } from './core/telemetry/ws-session.sampler.js';
export { TracingWsMetricsController } from './core/module/tracing-ws-metrics.controller.js';

// The ws transport
export { TracingWsAdapter } from './transports/ws/tracing-ws.adapter.js';
