import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { performance } from 'node:perf_hooks';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect, type Frame, type TestSocket } from '../support/ws-client.js';

// A graceful shutdown waits for messages in flight, up to shutdown.timeoutMs. If the
// in-flight count ever missed a decrement (a reply path, an error path), app.close()
// would still succeed, only after the whole timeout: no other test would notice.
// This one bounds the drain: once the last handler has answered, app.close() must
// finish in a small fraction of the timeout.

const SHUTDOWN_TIMEOUT_MS = 20000;
/** Well under the timeout, far above what closing a few loopback sockets takes. */
const DRAIN_BOUND_MS = 2000;

/** Handlers that block on one gate the test opens; each reports when it has started. */
class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  private started = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  start(): Promise<void> {
    this.started++;
    for (const w of this.waiters.filter((w) => this.started >= w.count)) w.resolve();
    return this.opened;
  }

  /** Resolves once `count` handlers are waiting at the gate. */
  startedCount(count: number): Promise<void> {
    if (this.started >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  release(): void {
    this.open();
  }
}

const gate = new Gate();

@TracedGateway()
@WebSocketGateway({ path: '/drain' })
class DrainGateway {
  @SubscribeMessage('work')
  async work(_socket: unknown, data: unknown) {
    await gate.start();
    return { event: 'done', data };
  }

  @SubscribeMessage('crash')
  async crash(): Promise<never> {
    await gate.start();
    throw new Error('failed after the gate');
  }

  @SubscribeMessage('refuse')
  async refuse(): Promise<never> {
    await gate.start();
    throw new WsException('refused after the gate');
  }

  @SubscribeMessage('echo')
  echo(_socket: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

describe('graceful shutdown drain time', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [DrainGateway], tracing: { shutdown: { timeoutMs: SHUTDOWN_TIMEOUT_MS } } });
  });
  afterAll(async () => {
    gate.release();
    await t.app.close().catch(() => undefined);
  });

  it('app.close() finishes well under shutdown.timeoutMs once in-flight messages are answered, whether they succeeded, failed or were refused', async () => {
    const sockets: TestSocket[] = await Promise.all([1, 2, 3].map(() => connect(`${t.wsUrl}/drain`)));
    const [a, b, c] = sockets as [TestSocket, TestSocket, TestSocket];
    a.send('work', 1, { id: 'a1' });
    a.send('work', 2, { id: 'a2' });
    b.send('crash', null, { id: 'b1' });
    c.send('refuse', null, { id: 'c1' });
    // Answered at once, before the shutdown: counted in and out too.
    expect((await c.request('echo', 'sync', 'echo')).data).toBe('sync');
    await gate.startedCount(4);

    const closing = t.app.close();
    // Draining has begun (the line is written before in-flight handlers are awaited).
    await logs.waitFor({ msg: 'ws.shutdown' });
    const releasedAt = performance.now();
    gate.release();
    await closing;
    const drainMs = performance.now() - releasedAt;

    // Every in-flight message was answered before its socket got 1001.
    const byId = (s: TestSocket, id: string): Frame | undefined => s.frames.find((f) => f.meta?.id === id);
    for (const s of sockets) expect(await s.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect(byId(a, 'a1')).toMatchObject({ event: 'done', data: 1 });
    expect(byId(a, 'a2')).toMatchObject({ event: 'done', data: 2 });
    expect(byId(b, 'b1')).toMatchObject({ event: 'error', data: { code: 'INTERNAL' } });
    expect(byId(c, 'c1')).toMatchObject({ event: 'error', data: { code: 'BAD_REQUEST', message: 'refused after the gate' } });
    expect(drainMs).toBeLessThan(DRAIN_BOUND_MS);
  });
});
