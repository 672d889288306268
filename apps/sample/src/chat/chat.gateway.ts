import { Logger } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, WsException, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, WsContextService } from '@tracing-ws/nestjs';
import type { WebSocket } from 'ws';
import { ModerationClient } from './moderation.js';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TEXT = 2000;

function roomOf(data: unknown): string {
  const room = (data as { room?: unknown } | null)?.room;
  if (typeof room !== 'string' || !ROOM.test(room)) throw new WsException('room must be 1-64 letters, digits, _ or -');
  return room;
}

/** The sample chat: rooms, messages broadcast to a room, echo. */
@TracedGateway()
@WebSocketGateway({ path: '/chat' })
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger(ChatGateway.name);

  constructor(
    private readonly broadcaster: WsBroadcaster,
    private readonly ws: WsContextService,
    private readonly moderation: ModerationClient,
  ) {}

  handleConnection(): void {
    this.logger.log(`hello ${this.ws.user?.id ?? 'anonymous'}`);
  }

  handleDisconnect(): void {
    this.logger.log(`bye ${this.ws.user?.id ?? 'anonymous'}`);
  }

  @SubscribeMessage('join')
  join(socket: WebSocket, data: unknown) {
    const room = roomOf(data);
    this.broadcaster.join(socket, room);
    return { event: 'joined', data: { room, members: this.broadcaster.size(room) } };
  }

  @SubscribeMessage('leave')
  leave(socket: WebSocket, data: unknown) {
    const room = roomOf(data);
    this.broadcaster.leave(socket, room);
    return { event: 'left', data: { room } };
  }

  @SubscribeMessage('message')
  async message(socket: WebSocket, data: unknown) {
    const room = roomOf(data);
    const text = (data as { text?: unknown }).text;
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) throw new WsException(`text must be 1-${MAX_TEXT} characters`);
    if (!this.broadcaster.roomsOf(socket).includes(room)) throw new WsException('join the room first');
    if (!(await this.moderation.allowed(text))) throw new WsException({ code: 'FORBIDDEN', message: 'message rejected by moderation' });
    const delivered = this.broadcaster.toRoom(room).emit('message', { room, text, user: this.ws.user?.id ?? 'anonymous', traceId: this.ws.traceId });
    return { event: 'sent', data: { room, delivered } };
  }

  @SubscribeMessage('echo')
  echo(_socket: WebSocket, data: unknown) {
    return { event: 'echo', data };
  }
}
