import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IO_META_KEY } from '@tracing-ws/nestjs/socket.io';
import { IoClients, nextEventArgs } from '../support/io-client.js';
import { SampleProcess } from '../support/sample-process.js';
import { connect } from '../support/ws-client.js';

// The built sample serving the chat over ws and socket.io on one port (TRANSPORT=both,
// TracingCompositeAdapter): ws at /chat, socket.io namespace /chat on /socket.io/.

const TRACE_ID = /^[0-9a-f]{32}$/;

describe('the sample app over ws and socket.io on the same port', () => {
  let sample: SampleProcess;
  const clients = new IoClients();

  beforeAll(async () => {
    sample = await SampleProcess.start({ TRANSPORT: 'both' });
  });
  afterAll(async () => {
    clients.closeAll();
    await sample.stop();
  });

  it('chats over both transports at once, each message with its trace id in the server log, each connection with its transport', async () => {
    expect(sample.find({ msg: 'sample.listening' })[0]).toMatchObject({ transport: 'both' });
    const wsClient = await connect(`${sample.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    try {
      const { socket: ioClient, session } = await clients.connect(`${sample.httpUrl}/chat`, { auth: { token: 'bob-token' } });
      await wsClient.request('join', { room: 'both' }, 'joined');
      await ioClient.emitWithAck('join', { room: 'both' });
      // Each transport's members get the room's messages sent on that transport.
      const sent = await wsClient.request('message', { room: 'both', text: 'over ws' }, 'sent');
      expect(sent.meta?.traceId).toMatch(TRACE_ID);
      await sample.waitForLog({ msg: 'ws.message_handled', trace_id: sent.meta!.traceId, event: 'message', user_id: 'alice' });
      const echo = (await ioClient.emitWithAck('echo', 'over socket.io')) as { data: string; [IO_META_KEY]: { traceId: string } };
      expect(echo.data).toBe('over socket.io');
      await sample.waitForLog({ msg: 'ws.message_handled', trace_id: echo[IO_META_KEY].traceId, event: 'echo', user_id: 'bob' });
      const { socket: ioAlice } = await clients.connect(`${sample.httpUrl}/chat`, { auth: { token: 'alice-token' } });
      await ioAlice.emitWithAck('join', { room: 'both' });
      const delivered = nextEventArgs(ioClient, 'message');
      const acked = (await ioAlice.emitWithAck('message', { room: 'both', text: 'over socket.io' })) as { [IO_META_KEY]: { traceId: string } };
      const [message] = await delivered;
      expect(message).toMatchObject({ room: 'both', text: 'over socket.io', user: 'alice' });
      expect(acked[IO_META_KEY].traceId).toMatch(TRACE_ID);
      expect(sample.find({ msg: 'ws.connected', transport: 'ws', user_id: 'alice' })).toHaveLength(1);
      expect(sample.find({ msg: 'ws.connected', transport: 'socket.io', trace_id: session.traceId })).toHaveLength(1);
    } finally {
      await wsClient.close();
    }
  });
});
