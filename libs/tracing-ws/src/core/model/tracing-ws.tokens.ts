/** Where the per-connection state lives on the client object handlers receive. Internal. */
export const CONNECTION_STATE = Symbol('tracing-ws:state');
/** Token of the merged, validated options. Internal. */
export const RESOLVED_OPTIONS = Symbol('tracing-ws:resolved-options');
/** Name of the tracer the library creates spans with. */
export const TRACER_NAME = '@tracing-ws/nestjs';
/** Set on a request the admin surface serves, so that `http_request_duration_seconds` leaves it out. Internal. */
export const ADMIN_REQUEST = Symbol('tracing-ws:admin-request');
/** Token of the admin surface's resolved options. Internal. */
export const ADMIN_OPTIONS = Symbol('tracing-ws:admin-options');
