import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { register } from 'prom-client';
import type { WsConnectionState } from '../connection/ws-connection.state.js';
import type { WsOutgoingFrame, WsTransportConnection } from '../model/ws-transport.js';
import { resolveTracingWsOptions } from '../options/resolve-options.js';
import { WsBackpressure } from '../policy/ws-backpressure.js';
import { WsLiveTap } from '../telemetry/ws-live.tap.js';
import { WsLogger } from '../telemetry/ws.logger.js';
import { WsMetrics } from '../telemetry/ws.metrics.js';
import { WsFrameSender } from './ws-frame.sender.js';

/** A transport that records what it is asked to write; `buffered` plays the peer's unread bytes. */
class RecordingTransport implements WsTransportConnection {
  readonly client = {};
  readonly isOpen = true;
  readonly written: WsOutgoingFrame[] = [];
  bufferedAmount = 0;
  send(frame: WsOutgoingFrame): number {
    this.written.push(frame);
    return 100;
  }
  close(): void {}
  terminate(): void {}
  stopReading(): void {}
  ping(): void {}
  cork(): boolean {
    return false;
  }
  uncork(): void {}
  pauseUntilDrained(): void {}
}

const options = resolveTracingWsOptions({});
const metrics = new WsMetrics(options);
const sender = new WsFrameSender(new WsBackpressure(options, new WsLogger()), new WsLiveTap(options));

function connection(path: string): WsConnectionState & { transport: RecordingTransport } {
  const transport = new RecordingTransport();
  return { transport, metrics: metrics.gateway(path, 'ws'), messagesOut: 0, bytesOut: 0, corked: false, congestedSince: 0 } as unknown as WsConnectionState & { transport: RecordingTransport };
}

/** One sample of a metric family (`series`: a histogram's `_count`, say) as a scrape reads it. */
async function sample(family: string, labels: Record<string, string>, series = family): Promise<number> {
  const metric = await register.getSingleMetric(family)!.get();
  const values = metric.values.filter((v) => ((v as { metricName?: string }).metricName ?? family) === series);
  return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('WsFrameSender.sendToMany', () => {
  it('writes the one frame to every open recipient, counts each on its connection, and adds the frame counters once per gateway', async () => {
    const onA = [connection('/a'), connection('/a'), connection('/a')];
    const onB = [connection('/b'), connection('/b')];
    const sentA = jest.spyOn(metrics.gateway('/a', 'ws').event('news').sent, 'inc');
    const bytesB = jest.spyOn(metrics.gateway('/b', 'ws').event('news').bytesSent, 'inc');
    const frame: WsOutgoingFrame = { kind: 'event', event: 'news', meta: undefined, text: '{"event":"news"}' };

    expect(sender.sendToMany([...onA, ...onB], frame, 'news')).toBe(5);

    for (const state of [...onA, ...onB]) {
      expect(state.transport.written).toEqual([frame]);
      expect([state.messagesOut, state.bytesOut]).toEqual([1, 100]);
    }
    expect(sentA.mock.calls).toEqual([[3]]);
    expect(bytesB.mock.calls).toEqual([[200]]);
    expect(await sample('ws_messages_sent_total', { path: '/a', event: 'news' })).toBe(3);
    expect(await sample('ws_bytes_sent_total', { path: '/b', event: 'news' })).toBe(200);
    // The size histogram still sees every frame.
    expect(await sample('ws_message_size_bytes', { path: '/a', direction: 'out' }, 'ws_message_size_bytes_count')).toBe(3);
  });

  it('drops and counts the frame for a congested recipient, and counts only what was written', async () => {
    const [slow, fast] = [connection('/c'), connection('/c')];
    slow.transport.bufferedAmount = options.backpressure.maxBufferedBytes + 1;
    const frame: WsOutgoingFrame = { kind: 'event', event: 'tick', meta: undefined, text: '{"event":"tick"}' };

    expect(sender.sendToMany([slow, fast], frame, 'tick')).toBe(1);

    expect(slow.transport.written).toEqual([]);
    expect(fast.transport.written).toEqual([frame]);
    expect(await sample('ws_messages_dropped_total', { path: '/c', reason: 'backpressure' })).toBe(1);
    expect(await sample('ws_messages_sent_total', { path: '/c', event: 'tick' })).toBe(1);
  });
});
