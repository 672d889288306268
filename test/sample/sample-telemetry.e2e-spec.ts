import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { metricValue } from '../support/metrics.js';
import { SampleProcess } from '../support/sample-process.js';
import { waitFor } from '../support/wait.js';
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

  it('bounds client text in its HTTP request lines and strips control and bidirectional characters', async () => {
    // An HTTP header is latin1: U+202E arrives as its UTF-8 bytes read as latin1, with a C1 byte inside.
    const userAgent = `curl\u00e2\u0080\u00aetxt.exe\u0085\u009b${'a'.repeat(15000)}`;
    await fetch(`${sample.httpUrl}/rooms/hostile-ua/announce?token=s3cret`, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': userAgent }, body: '{"text":"x"}' });
    const line = await waitFor(() => sample.lines.find((l) => l.msg === 'request completed' && String((l.req as { url?: string } | undefined)?.url).includes('hostile-ua')), 5000, 'the request line');
    const req = line.req as { url: string; headers: Record<string, string> };
    expect(req.url).toBe('/rooms/hostile-ua/announce?token=[redacted]');
    expect(req.headers['user-agent']).toMatch(/^curl\u00e2\u00aetxt\.exea+$/);
    expect(req.headers['user-agent']!.length).toBeLessThanOrEqual(512);
    const raw = sample.raw.filter((l) => l.includes('hostile-ua'));
    expect(raw.length).toBeGreaterThanOrEqual(1);
    for (const l of raw) expect(l).not.toMatch(/[\u0080-\u009f\u202a-\u202e]/);
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
