import { Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { WS_CONNECTION_CONTEXT, WS_MESSAGE_CONTEXT } from '../model/tracing-ws.constants.js';
import { currentWsStore } from '../model/ws-cls.store.js';
import { chooseTraceId } from '../telemetry/ws-log.fields.js';
import type { WsConnectionContext, WsMessageContext, WsUser } from '../model/ws-connection.context.js';

/**
 * Reads the current WebSocket connection and message from nestjs-cls, anywhere
 * in a handler's call tree: across `await`, timers and promises it starts, and
 * in a gateway's `handleConnection` / `handleDisconnect`. Outside a connection
 * every getter returns `undefined`.
 *
 * @example
 * constructor(private readonly ws: WsContextService) {}
 * audit() { this.repo.save({ by: this.ws.user?.id, trace: this.ws.traceId }); }
 */
@Injectable()
export class WsContextService {
  constructor(private readonly cls: ClsService) {}

  /** The connection context, or `undefined` outside a connection. */
  get connection(): WsConnectionContext | undefined {
    return currentWsStore(this.cls)?.[WS_CONNECTION_CONTEXT];
  }

  /** The message being handled, or `undefined` outside a message handler. */
  get message(): WsMessageContext | undefined {
    return currentWsStore(this.cls)?.[WS_MESSAGE_CONTEXT];
  }

  /** Id of the current connection. */
  get connectionId(): string | undefined {
    return this.connection?.connectionId;
  }

  /** Trace id of the current message, else of the connection's handshake. */
  get traceId(): string | undefined {
    const store = currentWsStore(this.cls);
    return chooseTraceId(undefined, store?.[WS_MESSAGE_CONTEXT], store?.[WS_CONNECTION_CONTEXT]);
  }

  /** The authenticated user of the current connection. */
  get user(): WsUser | undefined {
    return this.connection?.user;
  }
}
