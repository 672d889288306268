import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TracingWsClient } from '@tracing-ws/client';
import { loadConfig } from '../../apps/sample/src/config.js';
import { withoutForeignUndiciSubscribers } from '../client/undici-isolation.js';
import { SampleProcess } from '../support/sample-process.js';

// The chat page says: "Every message and error shows its trace id: search it in the
// server logs (trace_id)". This holds the sample to it at its default log level:
// the id shown next to a delivered message must find that message's line, with the
// connection and the user, not only an HTTP line of the moderation call.

interface ChatMessage {
  room: string;
  text: string;
  user: string;
  traceId: string;
}

describe('the sample at its default log level', () => {
  let sample: SampleProcess;
  let chat: TracingWsClient;
  const defaults = loadConfig({});
  let restoreUndici: () => void;

  beforeAll(async () => {
    // Upgrades as a browser sends them (see undici-isolation.ts).
    restoreUndici = withoutForeignUndiciSubscribers();
    // The defaults, not the debug level the other sample specs run at (an empty MESSAGE_LOG_LEVEL is unset).
    sample = await SampleProcess.start({ LOG_LEVEL: defaults.logLevel, MESSAGE_LOG_LEVEL: '' });
  });
  afterAll(async () => {
    chat?.close();
    await sample?.stop();
    restoreUndici();
  });

  it('runs at LOG_LEVEL=info by default', () => {
    expect(defaults.logLevel).toBe('info');
  });

  it('logs a line with connection_id and user_id under the trace id a delivered chat message shows', async () => {
    chat = new TracingWsClient({ url: `${sample.wsUrl}/chat`, token: 'alice-token' });
    await chat.connect();
    await chat.join('lobby');
    const shown = new Promise<ChatMessage>((resolve) => chat.subscribe<ChatMessage>('message', resolve));
    const reply = await chat.request<{ delivered: number }>('message', { room: 'lobby', text: 'find me in the logs' });
    const message = await shown;
    // What the page shows next to the message (the broadcast's traceId) is the reply's trace id.
    expect(message).toMatchObject({ text: 'find me in the logs', user: 'alice' });
    expect(message.traceId).toBe(reply.traceId);

    const line = await sample.waitForLog({ msg: 'ws.message_handled', trace_id: message.traceId });
    expect(line).toMatchObject({ level: 30, event: 'message', outcome: 'ok', user_id: 'alice' });
    const connected = await sample.waitForLog({ msg: 'ws.connected', connection_trace_id: chat.traceId });
    expect(line.connection_id).toBe(connected.connection_id);
    // Searching the id finds more than the moderation call's HTTP line.
    const found = sample.lines.filter((l) => l.trace_id === message.traceId);
    expect(found.filter((l) => typeof l.connection_id === 'string' && l.user_id === 'alice').length).toBeGreaterThan(0);
  });

  it('refuses a MESSAGE_LOG_LEVEL that is not a pino level', () => {
    expect(() => loadConfig({ MESSAGE_LOG_LEVEL: 'verbose' })).toThrow('MESSAGE_LOG_LEVEL: "verbose" is not one of trace, debug, info, warn, error, fatal');
  });
});
