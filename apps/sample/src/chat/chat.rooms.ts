import { Injectable } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { WsBroadcaster, WsContextService } from '@tracing-ws/nestjs';
import { ModerationClient } from './moderation.js';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TEXT = 2000;

function roomOf(data: unknown): string {
  const room = (data as { room?: unknown } | null)?.room;
  if (typeof room !== 'string' || !ROOM.test(room)) throw new WsException('room must be 1-64 letters, digits, _ or -');
  return room;
}

/**
 * The chat's rules, whatever the transport: rooms through the library's
 * `WsBroadcaster` (which takes a ws socket or a socket.io socket alike), messages
 * checked, moderated and broadcast with the sender and the message's trace id.
 * Each gateway only shapes the replies of its transport.
 */
@Injectable()
export class ChatRooms {
  constructor(
    private readonly broadcaster: WsBroadcaster,
    private readonly ws: WsContextService,
    private readonly moderation: ModerationClient,
  ) {}

  join(client: unknown, data: unknown): { room: string; members: number } {
    const room = roomOf(data);
    this.broadcaster.join(client, room);
    return { room, members: this.broadcaster.size(room) };
  }

  leave(client: unknown, data: unknown): { room: string } {
    const room = roomOf(data);
    this.broadcaster.leave(client, room);
    return { room };
  }

  /** Broadcasts `message` `{room, text, user, traceId}` to the room; resolves with how many sockets got it. */
  async post(client: unknown, data: unknown): Promise<{ room: string; delivered: number }> {
    const room = roomOf(data);
    const text = (data as { text?: unknown }).text;
    if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) throw new WsException(`text must be 1-${MAX_TEXT} characters`);
    if (!this.broadcaster.roomsOf(client).includes(room)) throw new WsException('join the room first');
    if (!(await this.moderation.allowed(text))) throw new WsException({ code: 'FORBIDDEN', message: 'message rejected by moderation' });
    const delivered = this.broadcaster.toRoom(room).emit('message', { room, text, user: this.ws.user?.id ?? 'anonymous', traceId: this.ws.traceId });
    return { room, delivered };
  }
}
