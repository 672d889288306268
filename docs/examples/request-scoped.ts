// a request-scoped provider in a gateway: one instance per connection, REQUEST is the client
import { Inject, Injectable, Scope } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsContextService } from '@tracing-ws/nestjs';

@Injectable({ scope: Scope.REQUEST })
export class Conversation {
  readonly turns: string[] = [];

  constructor(@Inject(REQUEST) readonly client: object) {} // the ws WebSocket, or the socket.io Socket
}

@TracedGateway()
@WebSocketGateway({ path: '/assistant' })
export class AssistantGateway {
  constructor(
    private readonly conversation: Conversation, // makes the gateway request-scoped too
    private readonly ws: WsContextService,
  ) {}

  @SubscribeMessage('say')
  say(_client: object, text: string) {
    this.conversation.turns.push(text); // this connection's turns only
    return { event: 'said', data: { turns: this.conversation.turns.length, traceId: this.ws.message?.traceId } };
  }
}
