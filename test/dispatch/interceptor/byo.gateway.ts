import { Injectable, UseGuards, UseInterceptors, type CanActivate, type Type } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, WsException, type GatewayMetadata } from '@nestjs/websockets';
import { trace } from '@opentelemetry/api';
import { TracedGateway, WsConnection, WsContextService, WsTracingInterceptor } from '@tracing-ws/nestjs';

/** What a handler reads of its context, before and after an await. */
export interface SeenContext {
  connectionId?: string;
  connectionTraceId?: string;
  traceId?: string;
  event?: string;
  spanId?: string;
}

/** A guard that refuses every message (Nest then throws `WsException('Forbidden resource')`). */
@Injectable()
export class DenyGuard implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

/**
 * A gateway as an app on its own adapter writes it: `@TracedGateway()` for the
 * guard's refusals, `WsTracingInterceptor` for everything per message.
 */
export function byoGateway(options: GatewayMetadata): Type {
  @TracedGateway()
  @UseInterceptors(WsTracingInterceptor)
  @WebSocketGateway(options)
  class ByoGateway {
    constructor(private readonly ws: WsContextService) {}

    @SubscribeMessage('whoami')
    async whoami(@WsConnection('connectionId') injected: string | undefined): Promise<{ event: string; data: { before: SeenContext; after: SeenContext; injected: string | undefined } }> {
      const before = this.seen();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { event: 'whoami', data: { before, after: this.seen(), injected } };
    }

    /** Answers on the acknowledgement (socket.io) with what it was given. */
    @SubscribeMessage('echo')
    echo(_client: unknown, data: unknown): unknown {
      return { echoed: data, traceId: this.ws.traceId };
    }

    @SubscribeMessage('explode')
    async explode(): Promise<never> {
      await Promise.resolve();
      throw new Error('secret internal detail: db at 10.1.2.3');
    }

    @SubscribeMessage('refuse')
    refuse(): never {
      throw new WsException('room is full');
    }

    @UseGuards(DenyGuard)
    @SubscribeMessage('guarded')
    guarded(): { event: string; data: string } {
      return { event: 'guarded', data: 'never sent' };
    }

    private seen(): SeenContext {
      return {
        connectionId: this.ws.connectionId,
        connectionTraceId: this.ws.connection?.traceId,
        traceId: this.ws.traceId,
        event: this.ws.message?.event,
        spanId: trace.getActiveSpan()?.spanContext().spanId,
      };
    }
  }
  return ByoGateway;
}
