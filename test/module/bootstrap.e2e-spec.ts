import { describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, TracingWsModule } from '@tracing-ws/nestjs';
import { startApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/m' })
class MinimalGateway {
  @SubscribeMessage('echo')
  echo(_c: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

describe('TracingWsModule bootstrap', () => {
  it('fails at bootstrap with an error naming a bad option (forRootAsync)', async () => {
    const start = startApp({
      gateways: [MinimalGateway],
      tracingModule: TracingWsModule.forRootAsync({ useFactory: async () => ({ traceMode: 'everything' as never }) }),
    });
    await expect(start).rejects.toThrow('TracingWsModule: option "traceMode" is invalid (got "everything"): give "message" or "connection".');
  });

  it('names metrics with the configured prefix', async () => {
    const t = await startApp({ gateways: [MinimalGateway], tracing: { metrics: { prefix: 'chat_' } } });
    try {
      const socket = await connect(`${t.wsUrl}/m`);
      await socket.request('echo', 1);
      const text = await t.metrics();
      expect(metricValue(text, 'chat_messages_received_total', { path: '/m', event: 'echo' })).toBe(1);
      expect(metricValue(text, 'chat_connections_active', { path: '/m' })).toBe(1);
      await socket.close();
    } finally {
      await t.close();
    }
  });
});
