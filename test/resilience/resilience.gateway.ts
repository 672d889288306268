import { StandardSchemaValidationPipe, UsePipes, ValidationPipe } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, WsContextService, type WsAuthRequest } from '@tracing-ws/nestjs';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';
import type { WebSocket } from 'ws';
import { z } from 'zod';

/** The same rule as JoinDto, as a Standard Schema (zod 4). */
export const RateSchema = z.object({ stars: z.number().int().min(1).max(5), comment: z.string().max(20) });

export class JoinDto {
  @IsString()
  @Length(1, 16)
  room!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  seats!: number;
}

/** Users for the resilience specs; `crashy`'s handleConnection throws, `shorty`'s credential expires. */
export const authenticate = ({ token }: WsAuthRequest) => {
  if (token === 'shorty') return { id: 'shorty', expiresAt: Date.now() + 300 };
  return token.startsWith('user-') ? { id: token.slice(5) } : null;
};

@TracedGateway()
@WebSocketGateway({ path: '/r' })
export class ResilienceGateway implements OnGatewayConnection {
  constructor(
    private readonly ws: WsContextService,
    private readonly broadcaster: WsBroadcaster,
  ) {}

  handleConnection(): void {
    if (this.ws.user?.id === 'crashy') throw new Error('connection hook failed');
  }

  @SubscribeMessage('echo')
  echo(_c: unknown, data: unknown) {
    return { event: 'echo', data };
  }

  @SubscribeMessage('slow')
  async slow(_c: unknown, data: { ms: number }) {
    await new Promise((r) => setTimeout(r, data.ms));
    return { event: 'slow', data };
  }

  @SubscribeMessage('book')
  @UsePipes(new ValidationPipe())
  book(@MessageBody() body: JoinDto) {
    return { event: 'booked', data: body };
  }

  @SubscribeMessage('rate')
  @UsePipes(new StandardSchemaValidationPipe())
  rate(@MessageBody({ schema: RateSchema }) body: z.infer<typeof RateSchema>) {
    return { event: 'rated', data: body };
  }

  @SubscribeMessage('float')
  float() {
    // A floating promise that rejects after the handler has returned.
    void new Promise((_, reject) => setTimeout(() => reject(new Error('floating failure')), 5));
    return { event: 'float', data: 'started' };
  }

  @SubscribeMessage('join')
  join(@ConnectedSocket() socket: WebSocket, @MessageBody() data: { room: string }) {
    this.broadcaster.join(socket, data.room);
    return { event: 'joined', data };
  }
}
