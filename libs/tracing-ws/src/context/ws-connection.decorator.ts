import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { WsConnectionContext } from './ws-connection-context.js';
import { getConnectionState } from './ws-connection.state.js';

/**
 * Injects the {@link WsConnectionContext} of the socket that sent the message
 * (or one of its fields) into a gateway handler.
 *
 * @example
 * @SubscribeMessage('whoami')
 * whoami(@WsConnection('user') user: WsUser) { return { event: 'me', data: user }; }
 */
export const WsConnection = createParamDecorator((field: keyof WsConnectionContext | undefined, ctx: ExecutionContext) => {
  const context = getConnectionState(ctx.switchToWs().getClient())?.context;
  return field ? context?.[field] : context;
});
