// chat.gateway.ts, served by the app's own adapter (a RedisIoAdapter, a stock IoAdapter or WsAdapter)
import { UseInterceptors } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsContextService, WsTracingInterceptor } from '@tracing-ws/nestjs';

@TracedGateway() // a guard's refusal, which no interceptor sees: counted, logged, answered
@UseInterceptors(WsTracingInterceptor) // each message: span, CLS context, log lines, metrics, errors
@WebSocketGateway({ namespace: '/chat' }) // `path` on ws; either names the metrics' `path` label
export class ChatGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('send')
  send(@MessageBody() text: string) {
    return { event: 'sent', data: { text, traceId: this.ws.traceId, connectionId: this.ws.connectionId } };
  }
}
