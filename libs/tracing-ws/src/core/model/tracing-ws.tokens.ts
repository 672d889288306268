/** Where the per-connection state lives on the client object handlers receive. Internal. */
export const CONNECTION_STATE = Symbol('tracing-ws:state');
/** Token of the merged, validated options. Internal. */
export const RESOLVED_OPTIONS = Symbol('tracing-ws:resolved-options');
/** Name of the tracer the library creates spans with. */
export const TRACER_NAME = '@tracing-ws/nestjs';
