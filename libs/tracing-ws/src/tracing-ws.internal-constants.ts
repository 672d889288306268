/** Where the handshake leaves its outcome on the upgrade request. Internal. */
export const HANDSHAKE_RESULT = Symbol('tracing-ws:handshake');
/** Where the per-connection state lives on the socket. Internal. */
export const CONNECTION_STATE = Symbol('tracing-ws:state');
/** Token of the merged, validated options. Internal. */
export const RESOLVED_OPTIONS = Symbol('tracing-ws:resolved-options');
/** Name of the tracer the library creates spans with. */
export const TRACER_NAME = '@tracing-ws/nestjs';
