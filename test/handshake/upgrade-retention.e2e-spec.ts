import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { startApp, type TestApp } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { connect, type TestSocket } from '../support/ws-client.js';

// A full GC on demand, without running jest itself under --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const upgrades: WeakRef<IncomingMessage>[] = [];

@TracedGateway()
@WebSocketGateway({ path: '/ws' })
class RetentionGateway {
  handleConnection(_client: unknown, req: IncomingMessage) {
    upgrades.push(new WeakRef(req));
  }
}

describe('what an open connection keeps of its handshake', () => {
  const telemetry = new TestTelemetry().start();
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp({ gateways: [RetentionGateway] });
  });
  afterAll(async () => {
    await t.close();
    await telemetry.shutdown();
  });

  // The upgrade socket's listener that frees an abandoned handshake's slot held the upgrade
  // request and the handshake outcome (with its ended span) for the connection's whole life
  // (≈ 3 KB per connection, bench/conn-memory.mjs); it is removed at the 101.
  it('lets the upgrade request be collected while the connection stays open', async () => {
    const sockets: TestSocket[] = [];
    for (let i = 0; i < 5; i++) sockets.push(await connect(`${t.wsUrl}/ws`));
    const deadline = Date.now() + 5000;
    while (upgrades.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(upgrades).toHaveLength(5);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    // At most the latest request may still be referenced from outside the library (one request,
    // not one per connection: the module's heap snapshots show none per connection at 5,000).
    expect(upgrades.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
    for (const s of sockets) await s.close();
  });
});
