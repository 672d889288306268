import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Injectable, Param, Post } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { TracedGateway, WsBroadcaster, WsContextService } from '@tracing-ws/nestjs';
import { metricValue } from '../support/metrics.js';
import { accepted, CONFORMANCE_PATH, type HarnessApp, type HarnessClient } from './harness.js';
import { TRANSPORTS } from './transports.js';

/** Server code outside any handler: a service that pushes now, or from a timer. */
@Injectable()
class Pusher {
  constructor(private readonly broadcaster: WsBroadcaster) {}

  direct(connectionId: string, n: number): number {
    return this.broadcaster.toConnection(connectionId).emit('direct', { n });
  }

  /** Resolves with the local recipient count once the timer has fired (outside the HTTP request). */
  later(room: string): Promise<number> {
    return new Promise((resolve) => setTimeout(() => resolve(this.broadcaster.toRoom(room).emit('tick', { at: 'timer' })), 5));
  }
}

@Controller('push')
class PushController {
  constructor(private readonly pusher: Pusher) {}

  @Post('connection/:id/:n')
  direct(@Param('id') id: string, @Param('n') n: string) {
    return { delivered: this.pusher.direct(id, Number(n)) };
  }

  @Post('room/:room/later')
  async later(@Param('room') room: string) {
    return { delivered: await this.pusher.later(room) };
  }
}

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class SendsGateway {
  constructor(
    private readonly broadcaster: WsBroadcaster,
    private readonly context: WsContextService,
  ) {}

  @SubscribeMessage('hello')
  hello(client: unknown, room: string) {
    this.broadcaster.join(client, room);
    return { event: 'hello', data: { connectionId: this.context.connectionId } };
  }

  /** A handler that pushes to its own connection the traced way, besides replying. */
  @SubscribeMessage('work')
  work() {
    this.broadcaster.toConnection(this.context.connectionId!).emit('progress', { done: 50 });
    return { event: 'work', data: 'done' };
  }
}

async function post(app: HarnessApp, path: string): Promise<number> {
  const res = await fetch(`${app.httpUrl}${path}`, { method: 'POST' });
  expect(res.status).toBe(201);
  return ((await res.json()) as { delivered: number }).delivered;
}

const spanOfTrace = (app: HarnessApp, name: string, traceId: string | undefined): Promise<ReadableSpan> =>
  app.waitForSpan((s) => s.name === name && s.spanContext().traceId === traceId);

describe.each(TRANSPORTS)('server sends over $name', (harness) => {
  let app: HarnessApp;
  let clients: HarnessClient[];
  let ids: string[];
  beforeAll(async () => {
    app = await harness.start({ gateways: [SendsGateway], providers: [Pusher], controllers: [PushController] });
    clients = [accepted(await app.connect()), accepted(await app.connect())];
    ids = [];
    for (const [i, client] of clients.entries()) {
      const hello = await client.request('hello', `news-${harness.name}`);
      ids[i] = (hello.data as { connectionId: string }).connectionId;
    }
  });
  afterAll(async () => {
    for (const client of clients ?? []) await client.close();
    await app.close();
  });

  it('pushes to one connection from an HTTP request in one PRODUCER span whose trace id the frame carries, counted per event with its bytes', async () => {
    const before = await app.metrics();
    expect(await post(app, `/push/connection/${ids[1]}/7`)).toBe(1);
    const frame = await clients[1]!.next('direct');
    expect(frame.data).toEqual({ n: 7 });
    const span = await spanOfTrace(app, 'send direct', frame.meta?.traceId);
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.destination.name': 'direct', 'messaging.batch.message_count': 1 });
    const after = await app.metrics();
    const labels = { ...app.gatewayLabels, event: 'direct' };
    expect(metricValue(after, 'ws_messages_sent_total', labels) - metricValue(before, 'ws_messages_sent_total', labels)).toBe(1);
    const bytes = metricValue(after, 'ws_bytes_sent_total', labels) - metricValue(before, 'ws_bytes_sent_total', labels);
    // The frame as written: at least the event name, the data and the 32-hex trace id.
    expect(bytes).toBeGreaterThan(JSON.stringify(frame.data).length + 'direct'.length + 32);
    expect(bytes).toBeLessThan(200);
  });

  it('sends nothing and throws nothing for a connection that is not open, and still records the attempt', async () => {
    const before = await app.metrics();
    expect(await post(app, '/push/connection/no-such-connection/1')).toBe(0);
    const span = await app.waitForSpan((s) => s.name === 'send direct' && s.attributes['messaging.batch.message_count'] === 0);
    expect(span.kind).toBe(SpanKind.PRODUCER);
    const labels = { ...app.gatewayLabels, event: 'direct' };
    expect(metricValue(await app.metrics(), 'ws_messages_sent_total', labels)).toBe(metricValue(before, 'ws_messages_sent_total', labels));
  });

  it('traces a room push from a timer as one span per publish, not per recipient, with both recipients counted', async () => {
    const before = await app.metrics();
    expect(await post(app, `/push/room/news-${harness.name}/later`)).toBe(2);
    const [a, b] = [await clients[0]!.next('tick'), await clients[1]!.next('tick')];
    expect(a.meta?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(b.meta?.traceId).toBe(a.meta?.traceId);
    await spanOfTrace(app, 'send tick', a.meta?.traceId);
    const spans = app.spans().filter((s) => s.spanContext().traceId === a.meta?.traceId);
    expect(spans.map((s) => [s.name, s.kind, s.attributes['messaging.batch.message_count']])).toEqual([['send tick', SpanKind.PRODUCER, 2]]);
    const after = await app.metrics();
    const labels = { ...app.gatewayLabels, event: 'tick' };
    expect(metricValue(after, 'ws_messages_sent_total', labels) - metricValue(before, 'ws_messages_sent_total', labels)).toBe(2);
    const bytes = metricValue(after, 'ws_bytes_sent_total', labels) - metricValue(before, 'ws_bytes_sent_total', labels);
    // Two identical frames (same data, same trace id).
    expect(bytes).toBeGreaterThan(0);
    expect(bytes % 2).toBe(0);
  });

  it("pushes to the handler's own connection inside the message's trace: the push and the reply share the trace id", async () => {
    const reply = await clients[0]!.request('work', null);
    const progress = await clients[0]!.next('progress');
    expect(progress.data).toEqual({ done: 50 });
    expect(progress.meta?.traceId).toBe(reply.meta?.traceId);
    const send = await spanOfTrace(app, 'send progress', reply.meta?.traceId);
    const process = await spanOfTrace(app, 'process work', reply.meta?.traceId);
    expect(send.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
  });
});
