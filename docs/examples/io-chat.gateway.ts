// io-chat.gateway.ts: a socket.io gateway; the acknowledgement carries the trace id in `$meta`
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsContextService } from '@tracing-ws/nestjs';
import type { Socket } from 'socket.io';

@TracedGateway()
@WebSocketGateway({ namespace: '/chat' })
export class IoChatGateway {
  constructor(private readonly ws: WsContextService) {}

  @SubscribeMessage('join')
  async join(@ConnectedSocket() socket: Socket, @MessageBody() data: { room: string }) {
    await socket.join(data.room);
    return { room: data.room, by: this.ws.user?.id }; // acknowledged as { room, by, $meta: { traceId } }
  }
}
