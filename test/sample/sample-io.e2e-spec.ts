import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { IO_META_KEY } from '@tracing-ws/nestjs/socket.io';
import type { Socket } from 'socket.io-client';
import { IoClients, nextEvent, nextEventArgs, type IoConnectError } from '../support/io-client.js';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';
import { loadConfig } from '../../apps/sample/src/config.js';

// The built sample serving its chat over socket.io (TRANSPORT=socket.io): namespace
// /chat on socket.io's default path, driven by the official socket.io-client.

const TRACE_ID = /^[0-9a-f]{32}$/;

type Meta = { traceId?: string; id?: string };
type Acked<T> = T & { [IO_META_KEY]: Meta };

function metaOf(arg: unknown): Meta | undefined {
  return (arg as { [IO_META_KEY]?: Meta } | undefined)?.[IO_META_KEY];
}

describe('the sample app over socket.io (built, run as its own process)', () => {
  let sample: SampleProcess;
  const clients = new IoClients();
  const chatUrl = (): string => `${sample.httpUrl}/chat`;

  beforeAll(async () => {
    sample = await SampleProcess.start({ TRANSPORT: 'socket.io' });
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await sample.stop();
  });

  async function member(token: string, room: string, how: 'auth' | 'header' = 'auth'): Promise<Socket> {
    const { socket } = await clients.connect(chatUrl(), how === 'auth' ? { auth: { token } } : { extraHeaders: { authorization: `Bearer ${token}` } });
    await socket.emitWithAck('join', { room });
    return socket;
  }

  it('says which transport it serves when it starts', () => {
    expect(sample.find({ msg: 'sample.listening' })[0]).toMatchObject({ transport: 'socket.io' });
  });

  it('joins a room with a token in the auth payload or in an Authorization header, acknowledging the member count and the trace id', async () => {
    const { socket: alice, session } = await clients.connect(chatUrl(), { auth: { token: 'alice-token' } });
    expect(session.traceId).toMatch(TRACE_ID);
    const joined = (await alice.emitWithAck('join', { room: 'io-join' })) as Acked<{ room: string; members: number }>;
    expect(joined).toEqual({ room: 'io-join', members: 1, [IO_META_KEY]: { traceId: expect.stringMatching(TRACE_ID) } });
    const line = await sample.waitForLog({ msg: 'ws.message_handled', trace_id: joined.$meta.traceId });
    expect(line).toMatchObject({ event: 'join', user_id: 'alice', path: '/chat', connection_trace_id: session.traceId, outcome: 'ok' });
    expect(sample.find({ msg: 'ws.connected', trace_id: session.traceId })[0]).toMatchObject({ transport: 'socket.io', user_id: 'alice' });

    const { socket: bob } = await clients.connect(chatUrl(), { extraHeaders: { authorization: 'Bearer bob-token' } });
    expect(await bob.emitWithAck('join', { room: 'io-join' })).toMatchObject({ room: 'io-join', members: 2 });
  });

  it("delivers a message to the room's other member with the trace id of the sender's server log line", async () => {
    const alice = await member('alice-token', 'io-r1');
    const bob = await member('bob-token', 'io-r1', 'header');
    const delivered = nextEventArgs(bob, 'message');
    const sent = (await alice.emitWithAck('message', { room: 'io-r1', text: 'hello bob' })) as Acked<{ room: string; delivered: number }>;
    expect(sent).toMatchObject({ room: 'io-r1', delivered: 2 });
    const [data, trailing] = await delivered;
    expect(data).toEqual({ room: 'io-r1', text: 'hello bob', user: 'alice', traceId: sent.$meta.traceId });
    expect(metaOf(trailing)).toEqual({ traceId: sent.$meta.traceId });
    const line = await sample.waitForLog({ msg: 'ws.message_handled', event: 'message', trace_id: sent.$meta.traceId });
    expect(line).toMatchObject({ user_id: 'alice', outcome: 'ok' });
    expect(await sample.waitForLog({ msg: 'ws.broadcast', trace_id: sent.$meta.traceId })).toMatchObject({ event: 'message', room: 'io-r1', recipients: 2 });
  });

  it('answers echo with an acknowledgement carrying the data and $meta.traceId, continuing a per-message traceparent', async () => {
    const { socket } = await clients.connect(chatUrl(), { auth: { token: 'alice-token' } });
    expect(await socket.emitWithAck('echo', { n: 1 })).toEqual({ data: { n: 1 }, [IO_META_KEY]: { traceId: expect.stringMatching(TRACE_ID) } });
    const traced = (await socket.emitWithAck('echo', 'ping', { [IO_META_KEY]: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', id: 'e-1' } })) as Acked<{ data: string }>;
    expect(traced).toEqual({ data: 'ping', [IO_META_KEY]: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: 'e-1' } });
  });

  it("acknowledges a refused message with the error and its trace id (the app's own text)", async () => {
    const { socket } = await clients.connect(chatUrl(), { auth: { token: 'alice-token' } });
    const refused = (await socket.emitWithAck('message', { room: 'io-elsewhere', text: 'hi' })) as { error: { code: string; message: string; traceId: string; retryable: boolean } };
    expect(refused.error).toEqual({ code: 'BAD_REQUEST', message: 'join the room first', traceId: expect.stringMatching(TRACE_ID), retryable: false });
    expect(await sample.waitForLog({ msg: 'ws.message_failed', trace_id: refused.error.traceId })).toMatchObject({ error_code: 'BAD_REQUEST', user_id: 'alice' });
  });

  it('delivers an HTTP announce to socket.io members under the HTTP request trace id', async () => {
    const alice = await member('alice-token', 'io-lobby');
    const bob = await member('bob-token', 'io-lobby');
    const heard = [nextEventArgs(alice, 'announcement'), nextEventArgs(bob, 'announcement')];
    const res = await fetch(`${sample.httpUrl}/rooms/io-lobby/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'maintenance at noon' }) });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { delivered: number; traceId: string };
    expect(body.delivered).toBe(2);
    for (const [data, trailing] of await Promise.all(heard)) {
      expect(data).toEqual({ room: 'io-lobby', text: 'maintenance at noon' });
      expect(metaOf(trailing)).toEqual({ traceId: body.traceId });
    }
    expect(await sample.waitForLog({ msg: 'ws.broadcast', trace_id: body.traceId })).toMatchObject({ event: 'announcement', recipients: 2 });
  });

  it('refuses a bad token with connect_error UNAUTHORIZED once: no reconnect storm although reconnection is on', async () => {
    const rejections = async (): Promise<number> =>
      metricValue(await (await fetch(`${sample.httpUrl}/metrics`)).text(), 'ws_handshake_rejections_total', { path: '/chat', transport: 'socket.io', reason: 'invalid_credentials' });
    const before = await rejections();
    const socket = clients.open(chatUrl(), { auth: { token: 'stolen-token' }, reconnection: true });
    const err = await nextEvent<IoConnectError>(socket, 'connect_error');
    expect(err.message).toBe('Unauthorized');
    expect(err.data).toEqual({ code: 'UNAUTHORIZED', status: 401, traceId: expect.stringMatching(TRACE_ID) });
    expect(await sample.waitForLog({ msg: 'ws.handshake_rejected', trace_id: err.data!.traceId })).toMatchObject({ reason: 'invalid_credentials', status: 401, transport: 'socket.io' });
    // Forty reconnection delays later the server has still seen one attempt.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(socket.active).toBe(false);
    expect((await rejections()) - before).toBe(1);
  });

  it('serves ws unless TRANSPORT says socket.io, and refuses a transport it does not know', () => {
    expect(loadConfig({}).transport).toBe('ws');
    expect(loadConfig({ TRANSPORT: 'socket.io' }).transport).toBe('socket.io');
    expect(() => loadConfig({ TRANSPORT: 'sockjs' })).toThrow('TRANSPORT: "sockjs" is not one of ws, socket.io');
  });

  it('writes no token into any log line', () => {
    expect(sample.raw.length).toBeGreaterThan(10);
    expect(sample.raw.some((l) => /alice-token|bob-token|stolen-token/.test(l))).toBe(false);
  });
});
