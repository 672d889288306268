import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from './ws-backoff.js';

/** A deterministic random source that returns `values` in turn. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('backoffDelay (exponential, full jitter)', () => {
  const options = { baseMs: 100, capMs: 1000 };

  it('doubles the ceiling with each attempt until the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, options, top))).toEqual([99, 199, 399, 799, 999, 999, 999]);
  });

  it('spreads the delay uniformly over the whole window', () => {
    const random = sequence(0, 0.25, 0.5, 0.75);
    expect([0, 1, 2, 3].map(() => backoffDelay(3, options, random))).toEqual([0, 100, 200, 300]);
  });

  it('never goes below the floor that a 1013 or 4429 asks for', () => {
    expect(backoffDelay(1, options, () => 0, 5000)).toBe(5000);
    expect(backoffDelay(11, { baseMs: 100, capMs: 60000 }, () => 0.5, 5000)).toBe(30000);
  });

  it('treats attempt 0 like the first retry and survives huge attempt numbers', () => {
    expect(backoffDelay(0, options, () => 0.5)).toBe(50);
    expect(backoffDelay(5000, options, () => 0.5)).toBe(500);
  });

  it('clamps a random source that leaves [0, 1)', () => {
    expect(backoffDelay(1, options, () => 7)).toBe(100);
    expect(backoffDelay(1, options, () => -1)).toBe(0);
  });
});
