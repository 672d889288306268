import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { waitFor } from '../support/wait.js';
import { accepted, CONFORMANCE_PATH, refused, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

/** Holds `slow` handlers until the test opens it, so that they are in flight when shutdown begins. */
@Injectable()
class Gate {
  started = 0;
  private release!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  open(): void {
    this.release();
  }
}

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class LifecycleGateway {
  constructor(private readonly gate: Gate) {}

  @SubscribeMessage('slow')
  async slow(_client: unknown, data: unknown) {
    this.gate.started++;
    await this.gate.opened;
    return { event: 'slow', data };
  }
}

describe.each(TRANSPORTS)('graceful shutdown over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [LifecycleGateway], providers: [Gate], options: { shutdown: { timeoutMs: 5000 } } });
  });
  afterAll(() => app.close());

  it('answers in-flight requests, then closes every client with 1001; refuses new connections meanwhile', async () => {
    const clients = [accepted(await app.connect()), accepted(await app.connect())];
    for (const [i, client] of clients.entries()) client.send('slow', { i }, { id: `s-${i}` });
    const gate = app.get(Gate);
    await waitFor(() => gate.started === 2, 5000, 'both handlers in flight');

    const closing = app.close();
    await app.logs.waitFor({ msg: 'ws.shutdown' });
    const late = await refused(await app.connect());
    expect(late.status).toBe(503);

    gate.open();
    for (const [i, client] of clients.entries()) {
      const reply = await client.next('slow');
      expect(reply.data).toEqual({ i });
      expect(reply.meta?.id).toBe(`s-${i}`);
      expect(await client.closed()).toEqual({ code: 1001, reason: 'Server shutting down' });
    }
    await closing;
    for (const client of clients) await app.logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: client.traceId, code: 1001 });
  });
});
