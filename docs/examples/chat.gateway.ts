// chat.gateway.ts
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, WsContextService } from '@tracing-ws/nestjs';
import type { WebSocket } from 'ws'; // the server-side socket (without this import, `WebSocket` is the browser's)

@TracedGateway()
@WebSocketGateway({ path: '/chat' })
export class ChatGateway {
  constructor(
    private readonly ws: WsContextService,
    private readonly rooms: WsBroadcaster,
  ) {}

  @SubscribeMessage('join')
  join(socket: WebSocket, data: { room: string }) {
    this.rooms.join(socket, data.room);
    return { event: 'joined', data: { room: data.room, by: this.ws.user?.id } };
  }
}
