import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Param, Post } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { SpanKind } from '@opentelemetry/api';
import { TracedGateway, TracingWsMetricsController } from '@tracing-ws/nestjs';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import type { Socket } from 'socket.io-client';
import { startApp, type TestApp } from '../../support/app.js';
import { IoClients, nextEventArgs } from '../../support/io-client.js';
import { metricValue } from '../../support/metrics.js';
import { TestTelemetry } from '../../support/otel.js';

/**
 * socket.io's own broadcasts (`server.to(room).emit()`, `client.to(room).emit()`),
 * with the adapter TracingIoAdapter installs when the app names none: traced and
 * counted like WsBroadcaster's, while clients receive exactly what stock socket.io
 * sends (no `$meta` argument added).
 */
const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

@TracedGateway()
@WebSocketGateway({ namespace: '/news' })
class NewsGateway {
  @WebSocketServer() nsp!: Namespace;

  @SubscribeMessage('join')
  async join(client: ServerSocket, room: string) {
    await client.join(room);
    return { room };
  }

  /** A handler's own broadcast to the others in the room. */
  @SubscribeMessage('say')
  say(client: ServerSocket, data: { room: string; text: string }) {
    client.to(data.room).emit('said', { text: data.text });
    return { ok: true };
  }
}

@Controller('news')
class NewsController {
  constructor(private readonly gateway: NewsGateway) {}

  @Post(':room')
  announce(@Param('room') room: string) {
    this.gateway.nsp.to(room).emit('headline', { room, text: 'extra' });
    return {};
  }
}

describe('socket.io broadcasts without createTracedRedisAdapter', () => {
  let app: TestApp;
  const clients = new IoClients();
  let a: Socket;
  let b: Socket;
  beforeAll(async () => {
    app = await startApp({
      gateways: [NewsGateway],
      controllers: [NewsController],
      metricsController: TracingWsMetricsController,
      adapter: (nest) => new TracingIoAdapter(nest),
    });
    a = (await clients.connect(`${app.httpUrl}/news`)).socket;
    b = (await clients.connect(`${app.httpUrl}/news`)).socket;
    for (const socket of [a, b]) await socket.emitWithAck('join', 'front');
  });
  afterAll(async () => {
    clients.closeAll();
    await app.close();
  });

  it('traces a broadcast from an HTTP request as one PRODUCER span with its recipient count, counts each frame, and adds nothing to what clients receive', async () => {
    const labels = { path: '/news', transport: 'socket.io', event: 'headline' };
    const before = metricValue(await app.metrics(), 'ws_messages_sent_total', labels);
    const received = [nextEventArgs(a, 'headline'), nextEventArgs(b, 'headline')];
    expect((await fetch(`${app.httpUrl}/news/front`, { method: 'POST' })).status).toBe(201);
    for (const args of await Promise.all(received)) expect(args).toEqual([{ room: 'front', text: 'extra' }]);
    const span = await telemetry.waitForSpan((s) => s.name === 'send headline');
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.attributes).toMatchObject({ 'messaging.system': 'socket.io', 'messaging.destination.name': 'front', 'messaging.batch.message_count': 2 });
    expect(span.attributes['messaging.message.id']).toBeUndefined();
    expect(telemetry.spans().filter((s) => s.name === 'send headline')).toHaveLength(1);
    expect(metricValue(await app.metrics(), 'ws_messages_sent_total', labels) - before).toBe(2);
  });

  it("traces a handler's broadcast inside the message's trace", async () => {
    const said = nextEventArgs(b, 'said');
    await a.emitWithAck('say', { room: 'front', text: 'hi' });
    expect(await said).toEqual([{ text: 'hi' }]);
    const send = await telemetry.waitForSpan((s) => s.name === 'send said');
    const process = await telemetry.waitForSpan((s) => s.name === 'process say' && s.spanContext().traceId === send.spanContext().traceId);
    expect(send.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(send.attributes['messaging.batch.message_count']).toBe(1);
  });
});
