import { describe, expect, it } from '@jest/globals';
import { decideOnClose } from './ws-close.policy.js';

describe('decideOnClose (the server close code table)', () => {
  it.each([1001, 1006, 1011, 4408])('reconnects with backoff after %i', (code) => {
    expect(decideOnClose(code)).toEqual({ action: 'reconnect', slowDown: false });
  });

  it.each([1013, 4429])('reconnects later (with the slow-down floor) after %i', (code) => {
    expect(decideOnClose(code)).toEqual({ action: 'reconnect', slowDown: true });
  });

  it.each([1000, 4403])('stops after %i', (code) => {
    expect(decideOnClose(code).action).toBe('stop');
  });

  it('asks for re-authentication after 4401', () => {
    expect(decideOnClose(4401).action).toBe('reauthenticate');
  });

  it('stops on protocol errors that a retry would repeat', () => {
    for (const code of [1002, 1003, 1007, 1008, 1015]) expect(decideOnClose(code).action).toBe('stop');
  });

  it('reconnects after 1009: the message was too large, not the session', () => {
    expect(decideOnClose(1009).action).toBe('reconnect');
  });

  it('reads unlisted 4xxx codes as HTTP statuses: client errors stop, server errors reconnect', () => {
    expect(decideOnClose(4400).action).toBe('stop');
    expect(decideOnClose(4404).action).toBe('stop');
    expect(decideOnClose(4500).action).toBe('reconnect');
    expect(decideOnClose(4503).action).toBe('reconnect');
  });

  it('reconnects after unknown standard and application codes', () => {
    expect(decideOnClose(1005).action).toBe('reconnect');
    expect(decideOnClose(1012).action).toBe('reconnect');
    expect(decideOnClose(3000).action).toBe('reconnect');
  });
});
