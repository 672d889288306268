import { describe, expect, it } from '@jest/globals';
import { WsAddressLimiter } from './ws-address.limiter.js';

describe('WsAddressLimiter', () => {
  it('gives each address its own burst, then says how long until the next token', () => {
    const limiter = new WsAddressLimiter(0.5, 2);
    expect([limiter.take('10.0.0.1', 0), limiter.take('10.0.0.1', 0)]).toEqual([undefined, undefined]);
    expect(limiter.take('10.0.0.1', 0)).toBe(2000);
    expect(limiter.take('10.0.0.1', 1500)).toBe(500);
    expect(limiter.take('10.0.0.2', 1500)).toBeUndefined();
    expect(limiter.take('10.0.0.1', 2000)).toBeUndefined();
  });

  it('keeps at most maxAddresses, forgetting the least recently seen', () => {
    const limiter = new WsAddressLimiter(1, 1, 2);
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('a', 0); // a is now the most recent, and empty
    limiter.take('c', 0); // b goes
    expect(limiter.size).toBe(2);
    expect(limiter.take('a', 0)).toBe(1000);
    expect(limiter.take('b', 0)).toBeUndefined(); // forgotten, so a full bucket again
  });
});
