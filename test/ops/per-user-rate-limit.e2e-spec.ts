import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway, type WsAuthRequest } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect, type TestSocket } from '../support/ws-client.js';

// rateLimit.perUser shares one bucket among a user's connections on an instance.
// The bucket must go when the user's last connection closes (else the map grows
// with every user ever seen, and a user who comes back starts half empty); while
// any connection of the user is open it must stay (else reconnecting would be a
// way around the limit). Refill is 1 token per second and the burst 40: a bucket
// that was not released could only have refilled as many tokens as seconds passed.

const BURST = 40;

@TracedGateway()
@WebSocketGateway({ path: '/limited' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(_socket: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

/** Sends `count` echo frames at once; resolves with how many were answered and how many refused. */
async function burst(socket: TestSocket, count: number): Promise<{ answered: number; refused: number }> {
  for (let i = 0; i < count; i++) socket.send('echo', i);
  let answered = 0;
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const frame = await socket.next((f) => f.event === 'echo' || f.event === 'error');
    if (frame.event === 'echo') answered++;
    else if (frame.data?.code === 'RATE_LIMITED') refused++;
    else throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
  }
  return { answered, refused };
}

describe('per-user rate-limit buckets (rateLimit.perUser)', () => {
  let t: TestApp;
  const open = (user: string) => connect(`${t.wsUrl}/limited`, { headers: { authorization: `Bearer ${user}` } });
  /** Closes from the client and waits until the server has processed the close. */
  const closeAndWait = async (socket: TestSocket) => {
    await socket.close();
    await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: socket.upgradeHeaders['x-trace-id'] });
  };

  beforeAll(async () => {
    t = await startApp({
      gateways: [EchoGateway],
      tracing: {
        requireAuth: true,
        authenticate: ({ token }: WsAuthRequest) => ({ id: token }),
        rateLimit: { perUser: true, messagesPerSecond: 1, burst: BURST, closeAfterRefused: 0 },
      },
    });
  });
  afterAll(() => t.close());

  it("is shared by a user's connections, kept while one is open, and released with the last one: a new connection then gets a full burst", async () => {
    const first = await open('alice');
    const second = await open('alice');
    // One bucket for both of alice's connections: half the burst each empties it.
    expect(await burst(first, BURST / 2)).toEqual({ answered: BURST / 2, refused: 0 });
    expect(await burst(second, BURST / 2)).toEqual({ answered: BURST / 2, refused: 0 });
    expect((await burst(second, 1)).refused).toBe(1);
    const startedAt = Date.now();
    // Another user has a bucket of their own.
    const bob = await open('bob');
    expect(await burst(bob, BURST)).toEqual({ answered: BURST, refused: 0 });

    // One of alice's connections closes, one stays: a new connection joins the emptied bucket.
    await closeAndWait(first);
    const third = await open('alice');
    const whileOpen = await burst(third, BURST);
    expect(whileOpen.answered).toBeLessThan(BURST / 2);

    // Her last connections close: the bucket goes, and the next connection starts full.
    await closeAndWait(second);
    await closeAndWait(third);
    const fourth = await open('alice');
    const afterRelease = await burst(fourth, BURST);
    // A kept bucket could only have refilled one token per second since it was emptied.
    expect(Date.now() - startedAt).toBeLessThan((BURST / 2) * 1000);
    expect(afterRelease).toEqual({ answered: BURST, refused: 0 });
    expect((await burst(fourth, 1)).refused).toBe(1);
    await Promise.all([fourth.close(), bob.close()]);
  });
});
