/** Exponential backoff settings. */
export interface WsBackoffOptions {
  /** Ceiling of the first retry's delay. */
  baseMs: number;
  /** No delay exceeds this. */
  capMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry), with "full
 * jitter": uniform in `[0, min(cap, base·2^(attempt-1)))`. Spreading retries over
 * the whole window is what keeps a restarted server from being hit by every
 * client at the same instant (AWS Architecture Blog, "Exponential Backoff And Jitter").
 *
 * @param random a source in `[0, 1)`; inject one to make delays deterministic.
 * @param floorMs a lower bound, for close codes that ask clients to come back later.
 */
export function backoffDelay(attempt: number, options: WsBackoffOptions, random: () => number = Math.random, floorMs = 0): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const sample = Math.min(Math.max(random(), 0), 1);
  return Math.max(floorMs, Math.floor(sample * ceiling));
}
