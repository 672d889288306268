// audit.service.ts and audit.gateway.ts
import { Injectable } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsConnection, WsContextService, type WsUser } from '@tracing-ws/nestjs';

/** Anywhere in a handler's call tree (across await, timers, promises): the connection's context. */
@Injectable()
export class AuditService {
  constructor(private readonly ws: WsContextService) {}

  record(action: string) {
    const { connectionId, traceId, user, message } = this.ws;
    return { action, connectionId, traceId, user: user?.id, event: message?.event };
  }
}

@TracedGateway()
@WebSocketGateway({ path: '/audit' })
export class AuditGateway {
  constructor(private readonly audit: AuditService) {}

  @SubscribeMessage('whoami')
  whoami(@WsConnection('user') user: WsUser | undefined) {
    return { event: 'whoami', data: { id: user?.id, audit: this.audit.record('whoami') } };
  }
}
