/** Where the handshake leaves its outcome on the upgrade request. Internal. */
export const HANDSHAKE_RESULT = Symbol('tracing-ws:handshake');
/** Where the per-connection state lives on the socket. Internal. */
export const CONNECTION_STATE = Symbol('tracing-ws:state');
/** Token of the merged, validated options. Internal. */
export const RESOLVED_OPTIONS = Symbol('tracing-ws:resolved-options');
/** Socket event by which a wrapped gateway hook reports its error to the lifecycle. Internal. */
export const WS_CONNECTION_ERROR_EVENT = 'tracing-ws:handler-error';
/** Name of the tracer the library creates spans with. */
export const TRACER_NAME = '@tracing-ws/nestjs';
