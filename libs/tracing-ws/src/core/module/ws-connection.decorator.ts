import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import { getConnectionState } from '../connection/ws-connection.state.js';
import { WS_CONNECTION_CONTEXT } from '../model/tracing-ws.constants.js';
import { currentWsStore } from '../model/ws-cls.store.js';

/**
 * Injects the {@link WsConnectionContext} of the socket that sent the message
 * (or one of its fields) into a gateway handler: the one the library's adapter
 * attached to the socket, else the one `WsTracingInterceptor` put in the CLS
 * context (on another adapter).
 *
 * @example
 * @SubscribeMessage('whoami')
 * whoami(@WsConnection('user') user: WsUser) { return { event: 'me', data: user }; }
 */
// Typed explicitly: the inferred type names ParameterDecoratorOptions, which NestJS 11 lacks.
export const WsConnection: (field?: keyof WsConnectionContext) => ParameterDecorator = createParamDecorator((field: keyof WsConnectionContext | undefined, ctx: ExecutionContext) => {
  const context = getConnectionState(ctx.switchToWs().getClient())?.context ?? currentWsStore()?.[WS_CONNECTION_CONTEXT];
  return field ? context?.[field] : context;
});
