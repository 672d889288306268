import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { waitFor } from '../support/wait.js';
import { accepted, CONFORMANCE_PATH, type HarnessApp } from './harness.js';
import { TRANSPORTS } from './transports.js';

@TracedGateway()
@WebSocketGateway({ path: CONFORMANCE_PATH })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

/** The authenticate hook holds each check until the test lets it go. */
const held: Array<() => void> = [];
const authenticate = () => new Promise<{ id: string }>((resolve) => held.push(() => resolve({ id: 'alice' })));
const releaseNext = async (what: string): Promise<void> => {
  await waitFor(() => held.length > 0, 5000, what);
  held.shift()!();
};

describe.each(TRANSPORTS)('a client that leaves while authenticate runs, over $name', (harness) => {
  let app: HarnessApp;
  beforeAll(async () => {
    app = await harness.start({ gateways: [EchoGateway], options: { maxConnectionsPerIp: 1, requireAuth: true, authenticate } });
  });
  afterAll(async () => {
    for (const release of held.splice(0)) release();
    await app.close();
  });

  // The slot is taken when the hook has answered, and the listener that gives it back was
  // put on a connection that had already closed: the address stayed at its limit for good,
  // and the handshake span never ended.
  it('gives the connection slot back and ends the handshake span', async () => {
    const pending = app.startHandshake({ token: 'alice-token' });
    await waitFor(() => held.length === 1, 5000, 'the authenticate hook to be called');
    pending.reset();
    // The server sees the reset before the hook answers.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await releaseNext('the first check');

    const span = await app.waitForSpan((s) => s.kind === SpanKind.SERVER && s.attributes['enduser.id'] === 'alice');
    expect(span.ended).toBe(true);

    // One connection per address: the same address connects again.
    const next = app.connect({ token: 'alice-token' });
    await releaseNext('the second check');
    const client = accepted(await next);
    expect((await client.request('echo', 'again')).data).toBe('again');
    await client.close();
  });
});
