import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { startApp, type TestApp } from '../support/app.js';
import { metricValue } from '../support/metrics.js';
import { connect } from '../support/ws-client.js';

// An app that names its replies after client input (which it should not, but may):
// the event label is capped per gateway, and past the cap replies still go out.
@TracedGateway()
@WebSocketGateway({ path: '/named' })
class NamedRepliesGateway {
  @SubscribeMessage('name')
  name(_client: unknown, data: string) {
    return { event: `reply-${data}`, data };
  }
}

describe('the event label cap', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [NamedRepliesGateway], tracing: { rateLimit: { messagesPerSecond: 0 } } });
  });
  afterAll(() => t.close());

  it('answers all 300 distinctly named replies and counts those past the cap as "other"', async () => {
    const socket = await connect(`${t.wsUrl}/named`);
    for (let i = 0; i < 300; i++) socket.send('name', String(i));
    const replies = [];
    for (let i = 0; i < 300; i++) replies.push(await socket.next());
    expect(replies.map((f) => f.event)).toEqual(Array.from({ length: 300 }, (_, i) => `reply-${i}`));
    const text = await t.metrics();
    const events = new Set([...text.matchAll(/^ws_messages_sent_total\{[^}]*event="([^"]*)"/gm)].map((m) => m[1]));
    expect(events.size).toBeLessThanOrEqual(257);
    // 256 labels: name, unknown, invalid, and 253 reply names; the other 47 replies count as "other".
    expect(metricValue(text, 'ws_messages_sent_total', { path: '/named', event: 'other' })).toBe(47);
    await socket.close();
  });
});
