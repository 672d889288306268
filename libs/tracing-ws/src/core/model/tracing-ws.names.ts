/**
 * Every telemetry name the library emits, in one place (the README lists them under "Emitted telemetry").
 * No other file spells a metric, span attribute or log field name as a literal.
 */

/** Prometheus metric names, without the configurable prefix (default `ws_`). */
export const WS_METRIC_NAMES = {
  connectionsActive: 'connections_active',
  connectionsOpened: 'connections_opened_total',
  connectionsClosed: 'connections_closed_total',
  connectionDuration: 'connection_duration_seconds',
  handshakeRejections: 'handshake_rejections_total',
  handshakeDuration: 'handshake_duration_seconds',
  messagesReceived: 'messages_received_total',
  messagesSent: 'messages_sent_total',
  bytesSent: 'bytes_sent_total',
  messageSize: 'message_size_bytes',
  messageDuration: 'message_duration_seconds',
  messageErrors: 'message_errors_total',
  heartbeatTimeouts: 'heartbeat_timeouts_total',
  rateLimited: 'rate_limited_total',
  messagesDropped: 'messages_dropped_total',
  broadcastBackendUp: 'broadcast_backend_up',
  broadcastPublished: 'broadcast_published_total',
  broadcastReceived: 'broadcast_received_total',
  broadcastFailed: 'broadcast_failed_total',
  broadcastLag: 'broadcast_lag_seconds',
  clientReports: 'client_reports_total',
  adminTraceDropped: 'admin_trace_dropped_total',
  historyRecovered: 'history_recovered_messages_total',
  historyRecoveriesFailed: 'history_recoveries_failed_total',
  historyEntries: 'history_entries',
  historyBytes: 'history_bytes',
} as const;

/** HTTP metric names (not prefixed: the conventional name dashboards expect). */
export const HTTP_METRIC_NAMES = {
  requestDuration: 'http_request_duration_seconds',
  clientErrors: 'http_client_errors_total',
} as const;

/** Prometheus label names. */
export const WS_METRIC_LABELS = {
  path: 'path',
  transport: 'transport',
  event: 'event',
  code: 'code',
  reason: 'reason',
  direction: 'direction',
  outcome: 'outcome',
  method: 'method',
  route: 'route',
  status: 'status',
} as const;

/**
 * Label names of the exemplars on `ws_message_duration_seconds` buckets (OpenMetrics only):
 * the ids of the sampled message span the observation came from. `trace_id` is the name
 * Grafana's `exemplarTraceIdDestinations` looks for by default.
 */
export const WS_EXEMPLAR_LABELS = {
  traceId: 'trace_id',
  spanId: 'span_id',
} as const;

/**
 * The `event` label values used when a frame names no registered handler, so
 * that label cardinality is bounded whatever clients send.
 */
export const WS_EVENT_LABELS = {
  unknown: 'unknown',
  invalid: 'invalid',
  error: 'error',
  other: 'other',
} as const;

/**
 * Span attribute names, following the OpenTelemetry semantic conventions:
 * https://opentelemetry.io/docs/specs/semconv/messaging/messaging-spans/ and
 * https://opentelemetry.io/docs/specs/semconv/http/http-spans/
 */
export const WS_SPAN_ATTRIBUTES = {
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestinationName: 'messaging.destination.name',
  messagingMessageId: 'messaging.message.id',
  messagingMessageBodySize: 'messaging.message.body.size',
  connectionId: 'ws.connection.id',
  /** The gateway path on ws, the namespace on socket.io: the `path` metric label and log field. */
  path: 'ws.path',
  connectionTraceId: 'ws.connection.trace_id',
  closeCode: 'ws.close.code',
  closeReason: 'ws.close.reason',
  closeInitiator: 'ws.close.initiator',
  sessionDuration: 'ws.session.duration',
  sessionMessagesIn: 'ws.session.messages_in',
  sessionMessagesOut: 'ws.session.messages_out',
  sessionBytesIn: 'ws.session.bytes_in',
  sessionBytesOut: 'ws.session.bytes_out',
  rejectionReason: 'ws.handshake.rejection_reason',
  enduserId: 'enduser.id',
  clientAddress: 'client.address',
  userAgent: 'user_agent.original',
  httpStatusCode: 'http.response.status_code',
  httpMethod: 'http.request.method',
  urlPath: 'url.path',
  messagingBatchCount: 'messaging.batch.message_count',
  messagingClientId: 'messaging.client.id',
  networkProtocolName: 'network.protocol.name',
  networkTransport: 'network.transport',
  networkPeerAddress: 'network.peer.address',
  networkPeerPort: 'network.peer.port',
  errorType: 'error.type',
  forceSample: 'ws.force_sample',
  linkType: 'ws.link.type',
  broadcastInstanceId: 'ws.broadcast.instance_id',
  broadcastOriginInstanceId: 'ws.broadcast.origin_instance_id',
  historyOffset: 'ws.history.offset',
  historyEpoch: 'ws.history.epoch',
  historyRecovered: 'ws.history.recovered',
} as const;

/** Values of the `ws.link.type` link attribute: what a span's link points at. */
export const WS_LINK_TYPES = {
  /** A message span's link to its connection's handshake span (what `WsSessionSampler` follows). */
  handshake: 'handshake',
  /** A replayed broadcast's link to the `send <event>` span that first published it. */
  publish: 'publish',
} as const;

/** Pino log field names (OpenTelemetry log data model names for the trace fields). */
export const WS_LOG_FIELDS = {
  traceId: 'trace_id',
  spanId: 'span_id',
  traceFlags: 'trace_flags',
  connectionId: 'connection_id',
  connectionTraceId: 'connection_trace_id',
  userId: 'user_id',
  event: 'event',
  path: 'path',
  transport: 'transport',
  code: 'code',
  reason: 'reason',
  closedBy: 'closed_by',
  sampled: 'sampled',
  status: 'status',
  durationMs: 'duration_ms',
  messagesIn: 'messages_in',
  messagesOut: 'messages_out',
  bytesIn: 'bytes_in',
  bytesOut: 'bytes_out',
  remoteAddress: 'remote_address',
  origin: 'origin',
  userAgent: 'user_agent',
  outcome: 'outcome',
  error: 'err',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  payload: 'payload',
  bufferedBytes: 'buffered_bytes',
  clients: 'clients',
  hook: 'hook',
  room: 'room',
  recipients: 'recipients',
  instanceId: 'instance_id',
  originInstanceId: 'origin_instance_id',
  lagMs: 'lag_ms',
  backend: 'backend',
  fix: 'fix',
  offset: 'offset',
  epoch: 'epoch',
  fromOffset: 'from_offset',
  recovered: 'recovered',
  /** true on a refusal found by the handshake check endpoint rather than by an upgrade. */
  handshakeCheck: 'handshake_check',
  /** `ws.client_report`: how long the client could not connect, its failed attempts and their close codes. */
  offlineMs: 'offline_ms',
  failedAttempts: 'failed_attempts',
  closeCodes: 'close_codes',
  lastRttMs: 'last_rtt_ms',
  lastErrorCode: 'last_error_code',
  /** true on a per-message line raised for a debug session (admin `POST <path>/debug`). */
  debugSession: 'debug_session',
  /** Admin lines: the watch, its target, how many connections an action touched, the level and end of a debug session. */
  watchId: 'watch_id',
  target: 'target',
  count: 'count',
  debugLevel: 'debug_level',
  until: 'until',
} as const;

/** The `msg` of the library's own log lines. */
export const WS_LOG_MESSAGES = {
  connected: 'ws.connected',
  disconnected: 'ws.disconnected',
  handshakeRejected: 'ws.handshake_rejected',
  messageHandled: 'ws.message_handled',
  messageRejected: 'ws.message_rejected',
  messageFailed: 'ws.message_failed',
  heartbeatTimeout: 'ws.heartbeat_timeout',
  rateLimited: 'ws.rate_limited',
  closedForAbuse: 'ws.closed_for_abuse',
  payloadTooLarge: 'ws.payload_too_large',
  slowConsumer: 'ws.slow_consumer',
  authExpired: 'ws.auth_expired',
  connectionHandlerFailed: 'ws.connection_handler_failed',
  unhandledRejection: 'ws.unhandled_rejection',
  shutdown: 'ws.shutdown',
  broadcast: 'ws.broadcast',
  broadcastBackendUp: 'ws.broadcast_backend_up',
  broadcastBackendDown: 'ws.broadcast_backend_down',
  broadcastEnvelopeRejected: 'ws.broadcast_envelope_rejected',
  presenceWriteFailed: 'ws.presence_write_failed',
  historyRecovered: 'ws.history_recovered',
  historyRecoveryFailed: 'ws.history_recovery_failed',
  historyWriteFailed: 'ws.history_write_failed',
  hookFailed: 'ws.hook_failed',
  authHookFailed: 'ws.auth_hook_failed',
  tracingOff: 'ws.tracing_off',
  httpClientError: 'http.client_error',
  clientReport: 'ws.client_report',
  clientReportRefused: 'ws.client_report_refused',
  adminDisconnect: 'ws.admin_disconnect',
  adminWatchStarted: 'ws.admin_watch_started',
  adminWatchEnded: 'ws.admin_watch_ended',
  adminDebugStarted: 'ws.admin_debug_started',
  adminDebugEnded: 'ws.admin_debug_ended',
  adminBackendDown: 'ws.admin_backend_down',
} as const;

/**
 * The `type` of a live trace event (admin `GET <path>/trace`, one JSON object per
 * SSE `data:` line): what happened to a watched user's connection.
 */
export const WS_LIVE_EVENT_TYPES = {
  /** The stream's first event: what is watched, until when, how many instances took the watch. */
  watch: 'watch',
  connected: 'connected',
  handshakeRejected: 'handshake_rejected',
  /** A message handled: event, size, trace id, duration, outcome. */
  message: 'message',
  /** A frame sent to the client: a reply, an event, a broadcast or an error frame. */
  sent: 'sent',
  error: 'error',
  /** A malformed or unknown frame refused. */
  rejected: 'rejected',
  rateLimited: 'rate_limited',
  clientReport: 'client_report',
  closed: 'closed',
  /** The last event: the watch ended (expired, shutdown). */
  end: 'end',
} as const;

/** Fields of a live trace event besides the log field names it shares with log lines. */
export const WS_LIVE_FIELDS = {
  type: 'type',
  /** When it happened (ms since the epoch). */
  at: 'at',
  size: 'size',
  kind: 'kind',
  /** Events of this watch dropped (events per second over the bound) since the previous event that went out. */
  dropped: 'dropped',
} as const;
