import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SampleProcess } from '../support/sample-process.js';
import { connect } from '../support/ws-client.js';
import { metricValue } from '../support/metrics.js';

describe('the sample app (built, run as its own process)', () => {
  let sample: SampleProcess;

  beforeAll(async () => {
    sample = await SampleProcess.start();
  });
  afterAll(async () => {
    await sample.stop();
  });

  it('serves /health and Prometheus text on /metrics', async () => {
    expect(await (await fetch(`${sample.httpUrl}/health`)).json()).toEqual({ status: 'ok' });
    const text = await (await fetch(`${sample.httpUrl}/metrics`)).text();
    expect(text).toContain('# TYPE ws_connections_active gauge');
  });

  it('refuses a chat connection without a demo token', async () => {
    await expect(connect(`${sample.wsUrl}/chat`)).rejects.toThrow('expected 101, got 401');
  });

  it('delivers an HTTP announce to room members under the HTTP request trace id', async () => {
    const alice = await connect(`${sample.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const bob = await connect(`${sample.wsUrl}/chat?access_token=bob-token`);
    try {
      expect((await alice.request('join', { room: 'lobby' }, 'joined')).data).toEqual({ room: 'lobby', members: 1 });
      expect((await bob.request('join', { room: 'lobby' }, 'joined')).data).toEqual({ room: 'lobby', members: 2 });

      const res = await fetch(`${sample.httpUrl}/rooms/lobby/announce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'maintenance at noon' }),
      });
      expect(res.status).toBe(202);
      const body = (await res.json()) as { delivered: number; traceId: string };
      expect(body.delivered).toBe(2);
      expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);

      for (const socket of [alice, bob]) {
        const frame = await socket.next((f) => f.event === 'announcement');
        expect(frame.data).toEqual({ room: 'lobby', text: 'maintenance at noon' });
        expect(frame.meta?.traceId).toBe(body.traceId);
      }
      const httpLine = await sample.waitForLog({ msg: 'request completed', trace_id: body.traceId });
      expect((httpLine.req as { url: string }).url).toBe('/rooms/lobby/announce');
      const delivery = await sample.waitForLog({ msg: 'ws.broadcast', trace_id: body.traceId });
      expect(delivery).toMatchObject({ event: 'announcement', recipients: 2 });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('broadcasts chat messages to the room with the sender and the trace id', async () => {
    const alice = await connect(`${sample.wsUrl}/chat`, { headers: { authorization: 'Bearer alice-token' } });
    const bob = await connect(`${sample.wsUrl}/chat`, { protocols: ['json', 'bearer.bob-token'] });
    try {
      await alice.request('join', { room: 'r1' }, 'joined');
      await bob.request('join', { room: 'r1' }, 'joined');
      const sent = await alice.request('message', { room: 'r1', text: 'hello bob' }, 'sent');
      const received = await bob.next((f) => f.event === 'message');
      expect(received.data).toMatchObject({ room: 'r1', text: 'hello bob', user: 'alice' });
      expect(received.data.traceId).toBe(sent.meta?.traceId);
      const echo = await bob.request('echo', { n: 1 });
      expect(echo.data).toEqual({ n: 1 });
      const invalid = await bob.request('message', { room: 'no spaces allowed', text: 'x' }, 'sent');
      expect(invalid.event).toBe('error');
      expect(invalid.data.code).toBe('BAD_REQUEST');
    } finally {
      await alice.close();
      await bob.close();
    }
    const text = await (await fetch(`${sample.httpUrl}/metrics`)).text();
    expect(metricValue(text, 'ws_messages_received_total', { path: '/chat', event: 'message' })).toBeGreaterThanOrEqual(2);
  });

  it('writes no token into any log line', () => {
    expect(sample.raw.length).toBeGreaterThan(10);
    expect(sample.raw.some((l) => /alice-token|bob-token/.test(l))).toBe(false);
  });
});
