import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';
import { connect } from '../support/ws-client.js';

describe('the sample: downstream propagation, HTTP telemetry, secrets', () => {
  let sample: SampleProcess;

  beforeAll(async () => {
    sample = await SampleProcess.start();
  });
  afterAll(async () => {
    await sample.stop();
  });

  it('calls moderation over HTTP inside the message trace (fetch sends its traceparent)', async () => {
    const alice = await connect(`${sample.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    try {
      await alice.request('join', { room: 'mod' }, 'joined');
      const sent = await alice.request('message', { room: 'mod', text: 'hello' }, 'sent');
      const traceId = sent.meta!.traceId!;
      // The moderation endpoint's HTTP log line is in the chat message's trace.
      const httpLine = await sample.waitForLog({ msg: 'request completed', trace_id: traceId });
      expect((httpLine.req as { url: string }).url).toBe('/moderation/check');
      const handled = await sample.waitForLog({ msg: 'ws.message_handled', trace_id: traceId });
      expect(handled).toMatchObject({ event: 'message', user_id: 'alice', outcome: 'ok' });
      const blocked = await alice.request('message', { room: 'mod', text: 'buy spam now' }, 'sent');
      expect(blocked.data).toMatchObject({ code: 'FORBIDDEN', message: 'message rejected by moderation' });
    } finally {
      await alice.close();
    }
  });

  it('labels HTTP durations with the route template', async () => {
    await fetch(`${sample.httpUrl}/rooms/some-room/announce`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    const text = await (await fetch(`${sample.httpUrl}/metrics`)).text();
    expect(metricValue(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/rooms/:room/announce', status: '202' })).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('some-room');
  });

  it('redacts tokens and cookies from every line, whichever way they are sent', async () => {
    const secret = 'alice-token';
    await fetch(`${sample.httpUrl}/rooms/lobby/announce?access_token=${secret}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, cookie: `session=${secret}` },
      body: '{"text":"x"}',
    });
    const ws = await connect(`${sample.wsUrl}/chat?access_token=${secret}`, { protocols: ['json', `bearer.${secret}`], headers: { cookie: `session=${secret}` } });
    await ws.request('echo', 1);
    await ws.close();
    await sample.waitForLog({ msg: 'ws.disconnected' });
    const withUrl = sample.lines.find((l) => (l.req as { url?: string } | undefined)?.url?.includes('access_token'));
    expect((withUrl?.req as { url: string }).url).toBe('/rooms/lobby/announce?access_token=[redacted]');
    expect(sample.raw.filter((l) => l.includes(secret))).toEqual([]);
  });
});
