import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { WsBroadcaster } from '@tracing-ws/nestjs';

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;

@Controller()
export class RoomsController {
  constructor(private readonly broadcaster: WsBroadcaster) {}

  /** Broadcasts `announcement` to a room; the HTTP request's trace continues into the delivery. */
  @Post('rooms/:room/announce')
  @HttpCode(202)
  announce(@Param('room') room: string, @Body() body: { text?: unknown }) {
    if (!ROOM.test(room)) throw new BadRequestException('room must be 1-64 letters, digits, _ or -');
    if (typeof body?.text !== 'string' || body.text.length === 0 || body.text.length > 2000) throw new BadRequestException('text must be 1-2000 characters');
    const delivered = this.broadcaster.toRoom(room).emit('announcement', { room, text: body.text });
    return { room, delivered, traceId: trace.getActiveSpan()?.spanContext().traceId };
  }

  /**
   * Sockets in a room on every instance (from the Redis presence registry when
   * `REDIS_URL` is set). `complete: false` while Redis is unreachable: only this
   * instance's members are listed then.
   */
  @Get('rooms/:room/members')
  async members(@Param('room') room: string) {
    if (!ROOM.test(room)) throw new BadRequestException('room must be 1-64 letters, digits, _ or -');
    const { items, complete } = await this.broadcaster.members(room);
    return { room, complete, members: items };
  }

  /**
   * Liveness plus, with Redis, the broadcast backend: `degraded` (still HTTP 200:
   * local delivery works, so the instance should stay in rotation) while Redis is down.
   */
  @Get('health')
  health() {
    const backend = this.broadcaster.backend;
    if (backend.backend === 'memory') return { status: 'ok' };
    return { status: backend.up ? 'ok' : 'degraded', broadcast: backend };
  }
}
