import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import type { Socket } from 'socket.io';
import { ChatRooms } from './chat.rooms.js';

/**
 * The sample chat over socket.io: namespace `/chat` on socket.io's default path
 * (`/socket.io/`), served by `TracingIoAdapter`. The same rules as the ws gateway
 * (`ChatRooms`); replies are acknowledgements (`emitWithAck`), with the trace id in
 * their `$meta`. A result shaped `{event, data}` would be emitted as an event
 * instead, so these handlers return plain objects.
 */
@TracedGateway()
@WebSocketGateway({ namespace: '/chat' })
export class ChatIoGateway {
  constructor(private readonly chat: ChatRooms) {}

  @SubscribeMessage('join')
  join(socket: Socket, data: unknown) {
    return this.chat.join(socket, data);
  }

  @SubscribeMessage('leave')
  leave(socket: Socket, data: unknown) {
    return this.chat.leave(socket, data);
  }

  @SubscribeMessage('message')
  message(socket: Socket, data: unknown) {
    return this.chat.post(socket, data);
  }

  /** `{ data }`: whatever was sent comes back as the acknowledgement's `data` (an object with an `event` field too). */
  @SubscribeMessage('echo')
  echo(_socket: Socket, data: unknown) {
    return { data };
  }
}
