import { Logger } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { TracedGateway, WsContextService } from '@tracing-ws/nestjs';
import type { WebSocket } from 'ws';
import { ChatRooms } from './chat.rooms.js';

/** The sample chat: rooms, messages broadcast to a room, echo. */
@TracedGateway()
@WebSocketGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(ChatGateway.name);

  constructor(
    private readonly chat: ChatRooms,
    private readonly ws: WsContextService,
  ) {}

  handleConnection(): void {
    this.logger.log(`hello ${this.ws.user?.id ?? 'anonymous'}`);
  }

  handleDisconnect(): void {
    this.logger.log(`bye ${this.ws.user?.id ?? 'anonymous'}`);
  }

  @SubscribeMessage('join')
  join(socket: WebSocket, data: unknown) {
    return { event: 'joined', data: this.chat.join(socket, data) };
  }

  @SubscribeMessage('leave')
  leave(socket: WebSocket, data: unknown) {
    return { event: 'left', data: this.chat.leave(socket, data) };
  }

  @SubscribeMessage('message')
  async message(socket: WebSocket, data: unknown) {
    return { event: 'sent', data: await this.chat.post(socket, data) };
  }

  @SubscribeMessage('echo')
  echo(_socket: WebSocket, data: unknown) {
    return { event: 'echo', data };
  }
}
