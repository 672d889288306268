import { Logger } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsConnection, WsContextService, type WsUser } from '@tracing-ws/nestjs';

/** The gateway the packaging suite talks to, written as an app on NestJS 11 would. */
@TracedGateway()
@WebSocketGateway({ path: '/ws' })
export class ProbeGateway {
  private readonly logger = new Logger(ProbeGateway.name);

  constructor(private readonly ws: WsContextService) {}

  /** Answers with what the CLS context holds, read after an await, and the injected user. */
  @SubscribeMessage('whoami')
  async whoami(@WsConnection('user') user: WsUser | undefined) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.logger.log('probe.whoami');
    return {
      event: 'whoami',
      data: { user: this.ws.user?.id, injectedUser: user?.id, traceId: this.ws.traceId, connectionId: this.ws.connectionId, connectionTraceId: this.ws.connection?.traceId },
    };
  }

  @SubscribeMessage('explode')
  explode(): never {
    throw new Error('secret internal detail');
  }
}
