import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/hostile' })
class HostileGateway {
  @SubscribeMessage('echo')
  echo(_socket: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

/** Characters a log viewer or terminal interprets: C1 controls and the bidirectional controls. */
const UNSAFE = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
/** An HTTP header is latin1: U+202E arrives as its UTF-8 bytes read as latin1, "\u00e2\u0080\u00ae". */
const HEADER_BIDI = '\u00e2\u0080\u00ae';

describe('client text that reaches a log line', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [HostileGateway], tracing: { logPayloadMaxLength: 200, messageLogLevel: 'info' } });
  });
  afterAll(() => t.close());

  it('is bounded and free of C1 and bidirectional controls: user agent, origin, payload, close reason', async () => {
    const client = await connect(`${t.wsUrl}/hostile`, {
      headers: { 'user-agent': `Mozilla${HEADER_BIDI}exe.txt\u0085\u009b[31m${'u'.repeat(1000)}`, origin: `https://a.example${HEADER_BIDI}\u0090` },
    });
    const traceId = client.upgradeHeaders['x-trace-id'] as string;
    await client.request('echo', { text: 'gpj.\u202Eexe\u2066x\u2069 \u200f\u061c\u0085' }, 'echo');
    client.ws.close(1000, 'bye\u202Eeyb\u0085');
    await client.closed;
    const connected = await logs.waitFor({ msg: 'ws.connected', connection_trace_id: traceId });
    const handled = await logs.waitFor({ msg: 'ws.message_handled', connection_trace_id: traceId });
    const gone = await logs.waitFor({ msg: 'ws.disconnected', connection_trace_id: traceId });

    expect(connected.user_agent).toMatch(/^Mozilla\u00e2\u00aeexe\.txt\[31mu+$/);
    expect((connected.user_agent as string).length).toBeLessThanOrEqual(256);
    expect(connected.origin).toBe('https://a.example\u00e2\u00ae');
    expect(handled.payload).toContain('gpj.exex ');
    expect(gone.reason).toBe('byeeyb');
    const mine = logs.raw.filter((line) => line.includes(traceId));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const line of mine) expect(line).not.toMatch(UNSAFE);
  });
});
