import { afterAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { TracedGateway, WsBroadcaster, type WsAuthRequest } from '@tracing-ws/nestjs';
import { TracingIoAdapter } from '@tracing-ws/nestjs/socket.io';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { startApp } from '../support/app.js';
import { TestTelemetry } from '../support/otel.js';
import { waitFor } from '../support/wait.js';
import { connect, upgrade } from '../support/ws-client.js';

/**
 * The README's span table against what the library exports: every attribute of
 * every exported span (handshake accepted and refused, messages handled and
 * failed, close, broadcast send; on ws and on socket.io) is listed in the row
 * of its span name, and every row is seen.
 */
const telemetry = new TestTelemetry().start();
afterAll(() => telemetry.shutdown());

/** Span name pattern → the attribute names its README rows list. */
function documented(): Map<RegExp, Set<string>> {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Spans'), readme.indexOf('\n\n', readme.indexOf('| Span | Kind |')));
  const rows = new Map<string, Set<string>>();
  for (const line of table.split('\n').filter((l) => l.startsWith('| `'))) {
    const [name, , , attributes] = line.split(' | ').map((c) => c.trim());
    const key = name!.replace(/^\|\s*/, '').replace(/`/g, '');
    const set = rows.get(key) ?? new Set<string>();
    for (const m of attributes!.matchAll(/`([a-z_]+(?:\.[a-z_]+)+)(?:=[^`]*)?`/g)) set.add(m[1]!);
    rows.set(key, set);
  }
  return new Map([...rows].map(([name, set]) => [new RegExp(`^${name.replace(/<[a-z]+>/g, '\\S+')}$`), set]));
}

@TracedGateway()
@WebSocketGateway({ path: '/t' })
class WsTableGateway {
  constructor(private readonly rooms: WsBroadcaster) {}

  @SubscribeMessage('join')
  join(socket: object, data: { room: string }) {
    this.rooms.join(socket, data.room);
    this.rooms.toRoom(data.room).emit('joined', { room: data.room });
    return { event: 'join', data };
  }

  @SubscribeMessage('refuse')
  refuse() {
    throw new WsException('no');
  }
}

@TracedGateway()
@WebSocketGateway({ namespace: '/t' })
class IoTableGateway extends WsTableGateway {}

const authenticate = ({ token }: WsAuthRequest) => (token === 'alice-token' ? { id: 'alice' } : null);

describe('the README span table', () => {
  it('lists every attribute of every span the library exports, on ws and on socket.io', async () => {
    const ws = await startApp({ gateways: [WsTableGateway], tracing: { authenticate } });
    try {
      expect((await upgrade(`${ws.wsUrl}/t?access_token=wrong`)).status).toBe(401);
      const client = await connect(`${ws.wsUrl}/t?access_token=alice-token`);
      await client.request('join', { room: 'r' }, 'join', { id: 'j-1' });
      await client.request('refuse', null, 'error');
      await client.close();
    } finally {
      await ws.close();
    }
    const ioApp = await startApp({ gateways: [IoTableGateway], tracing: { authenticate }, adapter: (app) => new TracingIoAdapter(app) });
    try {
      const refused = io(`${ioApp.httpUrl}/t`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: 'wrong' } });
      await new Promise((resolve) => refused.once('connect_error', resolve));
      refused.close();
      const socket = io(`${ioApp.httpUrl}/t`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: 'alice-token' } });
      await new Promise((resolve) => socket.once('tracing-ws:session', resolve));
      // A `{event, data}` result is emitted as that event, not acknowledged.
      const joined = new Promise((resolve) => socket.once('join', resolve));
      socket.emit('join', { room: 'r' }, { $meta: { id: 'j-2' } });
      await joined;
      await socket.timeout(5000).emitWithAck('refuse', null);
      socket.close();
      await waitFor(() => telemetry.spans().filter((s) => s.name === 'close').length >= 2, 5000, 'both close spans');
    } finally {
      await ioApp.close();
    }

    const rows = documented();
    expect(rows.size).toBeGreaterThanOrEqual(4);
    const seen = new Set<RegExp>();
    const undocumented: string[] = [];
    for (const span of telemetry.spans()) {
      const row = [...rows.keys()].find((pattern) => pattern.test(span.name));
      if (!row) {
        undocumented.push(`span ${span.name}`);
        continue;
      }
      seen.add(row);
      for (const key of Object.keys(span.attributes)) if (!rows.get(row)!.has(key)) undocumented.push(`${span.name}: ${key}`);
      for (const link of span.links) for (const key of Object.keys(link.attributes ?? {})) if (!rows.get(row)!.has(key)) undocumented.push(`${span.name} link: ${key}`);
    }
    expect([...new Set(undocumented)]).toEqual([]);
    // Every row but the Redis delivery (test/broadcast covers it) was exported here.
    expect(seen.size).toBe(rows.size);
  });
});
