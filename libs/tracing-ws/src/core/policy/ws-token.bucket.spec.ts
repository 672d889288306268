import { describe, expect, it } from '@jest/globals';
import { WsTokenBucket } from './ws-token.bucket.js';

describe('WsTokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = new WsTokenBucket(10, 5, 0);
    const burst = Array.from({ length: 7 }, () => bucket.take(0));
    expect(burst).toEqual([true, true, true, true, true, false, false]);
    // 100 ms at 10/s refills one token.
    expect(bucket.take(100)).toBe(true);
    expect(bucket.take(100)).toBe(false);
  });

  it('never saves up more than the burst', () => {
    const bucket = new WsTokenBucket(1000, 3, 0);
    const later = Array.from({ length: 4 }, () => bucket.take(60_000));
    expect(later).toEqual([true, true, true, false]);
  });
});
