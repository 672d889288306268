import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { setFlagsFromString } from 'node:v8';
import { io, type Socket } from 'socket.io-client';
import { startApp, type TestApp } from '../../support/app.js';
import { waitFor } from '../../support/wait.js';

// V8's own answer to "is this object still in fast mode" (a `delete` of a property that is not
// the last one added turns it into a slow dictionary, for the object's whole life).
setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

const seen: object[] = [];

@TracedGateway()
@WebSocketGateway({ namespace: '/shape' })
class ShapeGateway implements OnGatewayConnection {
  handleConnection(socket: object) {
    seen.push(socket);
  }
}

describe('TracingIoAdapter and the socket.io Socket it is given', () => {
  let t: TestApp;
  const clients: Socket[] = [];
  beforeAll(async () => {
    t = await startApp({ gateways: [ShapeGateway], adapter: (app) => new TracingIoAdapter(app) });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await t?.close();
  });

  it('leaves the socket in fast mode once the handshake result it carried is cleared', async () => {
    for (let i = 0; i < 3; i++) {
      const c = io(`${t.httpUrl}/shape`, { transports: ['websocket'], forceNew: true, reconnection: false });
      clients.push(c);
      await new Promise<void>((resolve, reject) => {
        c.once('connect', resolve);
        c.once('connect_error', reject);
      });
    }
    await waitFor(() => seen.length === 3, 5000, 'three connections');
    expect(seen.map(hasFastProperties)).toEqual([true, true, true]);
  });
});
