import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { armExpiry } from './expiry-timer.js';

const DAY = 24 * 3600 * 1000;

describe('armExpiry', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-11-23T00:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('fires at an expiry 30 days ahead, not when the longest timer (24.8 days) runs out', () => {
    const fire = jest.fn();
    armExpiry(Date.now() + 30 * DAY, fire);
    jest.advanceTimersByTime(2 ** 31 - 1);
    expect(fire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(30 * DAY - (2 ** 31 - 1) - 1);
    expect(fire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('fires on the next turn for an expiry already past', () => {
    const fire = jest.fn();
    armExpiry(Date.now() - 1000, fire);
    expect(fire).not.toHaveBeenCalled();
    jest.runOnlyPendingTimers();
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('never fires once cancelled', () => {
    const fire = jest.fn();
    armExpiry(Date.now() - 1, fire)();
    const cancelLater = armExpiry(Date.now() + 30 * DAY, fire);
    jest.advanceTimersByTime(2 ** 31 - 1);
    cancelLater();
    jest.advanceTimersByTime(31 * DAY);
    expect(fire).not.toHaveBeenCalled();
  });
});
