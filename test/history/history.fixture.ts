import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracingWsClient, type TracingWsClientOptions, type WsFrame } from '@tracing-ws/client';
import { TracedGateway, WsBroadcaster } from '@tracing-ws/nestjs';

/** A chat gateway as an application writes it: no recovery code, only `WsBroadcaster.join` and `toRoom().emit`. */
@TracedGateway()
@WebSocketGateway({ path: '/chat' })
export class HistoryGateway {
  constructor(private readonly broadcaster: WsBroadcaster) {}

  @SubscribeMessage('join')
  join(socket: unknown, data: { room: string }) {
    this.broadcaster.join(socket, data.room);
    return { event: 'joined', data: { room: data.room } };
  }

  @SubscribeMessage('say')
  say(_socket: unknown, data: { room: string; i: number }) {
    return { event: 'sent', data: { delivered: this.broadcaster.toRoom(data.room).emit('said', { i: data.i }) } };
  }
}

/** What a subscriber saw of one `said` broadcast. */
export interface Seen {
  readonly i: number;
  readonly recovered: boolean;
  readonly offset: number | undefined;
  readonly traceId: string | undefined;
}

/**
 * A TracingWsClient as an application uses it (subscribe, join) with fast reconnects,
 * recording every `said` delivery and every recovery event.
 */
export function chatClient(url: string, options: Partial<TracingWsClientOptions> = {}) {
  const client = new TracingWsClient({ url, random: () => 0.5, reconnect: { baseMs: 20, capMs: 100, slowDownMs: 50 }, ...options });
  const seen: Seen[] = [];
  const failures: Array<{ room: string; reason: string }> = [];
  const recoveries: Array<{ room: string; count: number }> = [];
  client.subscribe('said', (data: { i: number }, frame: WsFrame<{ i: number }>) => {
    seen.push({ i: data.i, recovered: frame.meta?.recovered === true, offset: frame.meta?.offset, traceId: frame.meta?.traceId });
  });
  client.on('recoveryFailed', (e) => failures.push(e));
  client.on('recovered', (e) => recoveries.push(e));
  return { client, seen, failures, recoveries };
}

/** 0, 1, …, n - 1 */
export const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
