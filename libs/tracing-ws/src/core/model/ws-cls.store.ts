import { ClsServiceManager, type ClsService, type ClsStore } from 'nestjs-cls';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from './tracing-ws.constants.js';
import type { WsConnectionContext, WsMessageContext } from './ws-connection.context.js';

/** What the library keeps in a nestjs-cls store: the connection, and the message being handled. */
export interface WsClsStore extends ClsStore {
  readonly [WS_CONNECTION_CONTEXT]?: WsConnectionContext;
  readonly [WS_MESSAGE_CONTEXT]?: WsMessageContext;
}

/**
 * The library's view of the current CLS store, `undefined` outside any CLS
 * context. The one place that reads the store: everything else calls this.
 * Without `cls`, nestjs-cls's process-wide service is used (for code outside DI,
 * such as a pino mixin).
 */
export function currentWsStore(cls: ClsService = ClsServiceManager.getClsService()): WsClsStore | undefined {
  return cls.get() as WsClsStore | undefined;
}
