import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { TracedGateway } from '@tracing-ws/nestjs';
import { logs, startApp, type TestApp } from '../support/app.js';
import { connect } from '../support/ws-client.js';

@TracedGateway()
@WebSocketGateway({ path: '/nosdk' })
class NoSdkGateway {
  @SubscribeMessage('echo')
  echo(_client: unknown, data: unknown) {
    return { event: 'echo', data };
  }
}

// No OpenTelemetry SDK is started in this file: the API's no-op provider is in effect.
describe('without an OpenTelemetry SDK', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ gateways: [NoSdkGateway] });
  });
  afterAll(() => t.close());

  it('says once, at the first handshake, that tracing is off and how to turn it on', async () => {
    expect(logs.find({ msg: 'ws.tracing_off' })).toHaveLength(0);
    const first = await connect(`${t.wsUrl}/nosdk`);
    const second = await connect(`${t.wsUrl}/nosdk`);
    expect((await second.request('echo', 1)).data).toBe(1);
    const line = await logs.waitFor({ msg: 'ws.tracing_off' });
    expect(line.level).toBe(40);
    expect(String(line.fix)).toContain('@opentelemetry/sdk-node');
    expect(logs.find({ msg: 'ws.tracing_off' })).toHaveLength(1);
    await first.close();
    await second.close();
  });
});
