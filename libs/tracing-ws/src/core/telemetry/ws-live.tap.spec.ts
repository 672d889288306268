import { describe, expect, it } from '@jest/globals';
import type { WsConnectionContext } from '../model/ws-connection.context.js';
import type { ResolvedTracingWsOptions } from '../options/tracing-ws.options.js';
import { WsLiveTap, type WsLiveEvent } from './ws-live.tap.js';

const options = { broadcast: { instanceId: 'i1' } } as ResolvedTracingWsOptions;
const context = (connectionId: string, user?: string) => ({ connectionId, traceId: 't'.repeat(32), user: user ? { id: user } : undefined, path: '/p', transport: 'ws' }) as unknown as WsConnectionContext;

describe('WsLiveTap', () => {
  it('is cold until something is watched or debugged, and cold again after', () => {
    const tap = new WsLiveTap(options);
    expect(tap.hot).toBe(false);
    const stop = tap.subscribe({ user: 'alice' }, { payloads: false, deliver: () => undefined });
    expect(tap.hot).toBe(true);
    stop();
    expect(tap.hot).toBe(false);
    tap.debug({ connection: 'c1' }, 'info', Date.now() + 1000);
    expect(tap.hot).toBe(true);
    tap.debug({ connection: 'c1' }, undefined);
    expect(tap.hot).toBe(false);
  });

  it('hands an event to the watches of its user and of its connection once each, payloads only to those that asked', () => {
    const tap = new WsLiveTap(options);
    const got: Array<[string, WsLiveEvent, unknown]> = [];
    tap.subscribe({ user: 'alice' }, { payloads: true, deliver: (e, p) => got.push(['user', e, p]) });
    tap.subscribe({ connection: 'c1' }, { payloads: false, deliver: (e, p) => got.push(['conn', e, p]) });
    tap.emit(context('c1', 'alice'), 'message', { event: 'say' }, { secret: 1 });
    tap.emit(context('c2', 'bob'), 'message', { event: 'say' }, { secret: 2 });
    expect(got.map(([who, e, p]) => [who, e.type, e.connection_id, e.instance_id, p])).toEqual([
      ['user', 'message', 'c1', 'i1', { secret: 1 }],
      ['conn', 'message', 'c1', 'i1', undefined],
    ]);
  });

  it('ends an expired debug session at the first line it would have raised', () => {
    const tap = new WsLiveTap(options);
    tap.debug({ user: 'alice' }, 'warn', Date.now() - 1);
    expect(tap.debugLevel(context('c1', 'alice'))).toBeUndefined();
    expect(tap.hot).toBe(false);
  });
});
