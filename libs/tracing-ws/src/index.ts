export { TracingWsModule } from './tracing-ws.module.js';
export { TRACING_WS_MODULE_OPTIONS, type TracingWsModuleExtras } from './tracing-ws.module-definition.js';
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
} from './tracing-ws.options.js';
export { TracingWsAdapter } from './tracing-ws.adapter.js';
export { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from './tracing-ws.constants.js';
export type { WsConnectionContext, WsMessageContext, WsUser } from './context/ws-connection-context.js';
export { WsContextService } from './context/ws-context.service.js';
export { WsConnection } from './context/ws-connection.decorator.js';
export {
  WsHandshakeGuard,
  sanitizeHeaderText,
  type WsAcceptedHandshake,
  type WsCredential,
  type WsHandshakeOutcome,
  type WsRejectedHandshake,
  type WsRejectionReason,
} from './handshake/ws-handshake.guard.js';
export { normalizeTraceId, parseTraceparent, type ParsedTraceContext } from './handshake/trace-id.js';
export {
  WsBroadcaster,
  type WsBroadcastBackendState,
  type WsBroadcastTarget,
  type WsOnlineConnection,
  type WsPresenceResult,
  type WsRoomMember,
} from './broadcast/ws.broadcaster.js';
export { WsBroadcastMetrics, type WsBroadcastFailure } from './broadcast/ws-broadcast.metrics.js';
export { WsFrameSender } from './messages/ws-frame.sender.js';
export { WsTracingInterceptor } from './messages/ws-tracing.interceptor.js';
export { TracingWsExceptionFilter } from './messages/tracing-ws-exception.filter.js';
export { TracedGateway } from './messages/traced-gateway.decorator.js';
export { mapWsException, type WsMappedError } from './messages/ws-exception.mapper.js';
export {
  WS_CLOSE_CODES,
  WS_ERROR_CODES,
  type WsErrorCode,
  type WsErrorData,
  type WsFrame,
  type WsFrameMeta,
} from './messages/ws-protocol.js';
export { WsMetrics, type WsEventMetrics, type WsGatewayMetrics } from './telemetry/ws.metrics.js';
export { WsLogger } from './telemetry/ws.logger.js';
export { wsLogMixin } from './telemetry/ws-log.mixin.js';
export { redactUrlSecrets, WS_LOG_REDACT_PATHS } from './telemetry/ws-log.redact.js';
export { WsForceSampler, type WsSamplerLike } from './telemetry/ws-force.sampler.js';
export { HttpMetricsMiddleware } from './telemetry/http-metrics.middleware.js';
export {
  HTTP_METRIC_NAMES,
  WS_EVENT_LABELS,
  WS_LOG_FIELDS,
  WS_LOG_MESSAGES,
  WS_METRIC_LABELS,
  WS_METRIC_NAMES,
  WS_SPAN_ATTRIBUTES,
} from './telemetry/tracing-ws.names.js';
