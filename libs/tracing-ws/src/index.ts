export { TracingWsModule } from './core/module/tracing-ws.module.js';
export { TRACING_WS_MODULE_OPTIONS, type TracingWsModuleExtras } from './core/module/tracing-ws.module-definition.js';
export {
  resolveTracingWsOptions,
  TRACING_WS_DEFAULTS,
  type ResolvedTracingWsOptions,
  type TracingWsMetricsOptions,
  type TracingWsModuleOptions,
  type TracingWsBroadcastOptions,
  type TracingWsRedisOptions,
  TRACING_WS_REDIS_DEFAULTS,
  type WsAuthenticateHook,
  type WsAuthRequest,
  type WsForceSampleHook,
  type WsMessageSpanHook,
  type WsMessageSpanInfo,
  type WsCredentialSource,
  type WsLogLevel,
  type WsTraceMode,
} from './core/options/tracing-ws.options.js';
export { TracingWsAdapter } from './transports/ws/tracing-ws.adapter.js';
export { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from './core/model/tracing-ws.constants.js';
export type { WsConnectionContext, WsMessageContext, WsUser } from './core/model/ws-connection.context.js';
export { WsContextService } from './core/module/ws-context.service.js';
export { WsConnection } from './core/module/ws-connection.decorator.js';
export {
  WsHandshakeGuard,
  sanitizeHeaderText,
  type WsAcceptedHandshake,
  type WsCredential,
  type WsHandshakeOutcome,
  type WsRejectedHandshake,
  type WsRejectionReason,
} from './core/handshake/ws-handshake.guard.js';
export { normalizeTraceId, parseTraceparent, type ParsedTraceContext } from './core/model/trace-context.js';
export {
  WsBroadcaster,
  type WsBroadcastBackendState,
  type WsBroadcastTarget,
  type WsOnlineConnection,
  type WsPresenceResult,
  type WsRoomMember,
} from './core/broadcast/ws.broadcaster.js';
export { WsBroadcastMetrics, type WsBroadcastFailure } from './core/telemetry/ws-broadcast.metrics.js';
export { WsFrameSender } from './core/dispatch/ws-frame.sender.js';
export { WsTracingInterceptor } from './core/dispatch/ws-message.dispatcher.js';
export { TracingWsExceptionFilter } from './core/dispatch/tracing-ws-exception.filter.js';
export { TracedGateway } from './core/dispatch/traced-gateway.decorator.js';
export { mapWsException, type WsMappedError } from './core/dispatch/ws-exception.mapper.js';
export {
  WS_CLOSE_CODES,
  WS_ERROR_CODES,
  type WsErrorCode,
  type WsErrorData,
  type WsFrame,
  type WsFrameMeta,
} from './core/model/ws-protocol.js';
export { WsMetrics, type WsEventMetrics, type WsGatewayMetrics } from './core/telemetry/ws.metrics.js';
export { WsLogger } from './core/telemetry/ws.logger.js';
export { wsLogMixin } from './core/telemetry/ws-log.mixin.js';
export { redactUrlSecrets, WS_LOG_REDACT_PATHS } from './core/telemetry/ws-log.redact.js';
export { WsForceSampler, type WsSamplerLike } from './core/telemetry/ws-force.sampler.js';
export { HttpMetricsMiddleware } from './core/telemetry/http-metrics.middleware.js';
export {
  HTTP_METRIC_NAMES,
  WS_EVENT_LABELS,
  WS_LOG_FIELDS,
  WS_LOG_MESSAGES,
  WS_METRIC_LABELS,
  WS_METRIC_NAMES,
  WS_SPAN_ATTRIBUTES,
} from './core/model/tracing-ws.names.js';
