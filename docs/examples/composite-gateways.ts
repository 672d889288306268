// chat gateways of one app on both transports: `transport` in the gateway's options chooses
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsContextService } from '@tracing-ws/nestjs';

@TracedGateway()
@WebSocketGateway({ path: '/chat', transport: 'ws' }) // ws://host:3000/chat
export class WsChatGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() text: string) {
    return { event: 'echo', data: { text, user: this.ws.user?.id } }; // meta.traceId added
  }
}

@TracedGateway()
@WebSocketGateway({ namespace: '/chat', transport: 'socket.io' }) // io('http://host:3000/chat'), engine path /socket.io/
export class IoChatGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('echo')
  echo(@MessageBody() text: string) {
    return { text, user: this.ws.user?.id }; // acknowledged with $meta.traceId
  }
}
