/**
 * CLS key under which the {@link WsConnectionContext} of the current connection
 * is stored, for `cls.get(WS_CONNECTION_CONTEXT)` where {@link WsContextService}
 * is not at hand.
 */
export const WS_CONNECTION_CONTEXT: unique symbol = Symbol('tracing-ws:connection');

/** CLS key under which the {@link WsMessageContext} of the message being handled is stored. */
export const WS_MESSAGE_CONTEXT: unique symbol = Symbol('tracing-ws:message');
