/** setTimeout holds 2^31-1 ms (about 24.8 days) at most. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fire` once the wall clock reaches `at` (ms since the epoch), however far
 * ahead: a delay longer than a timer can hold is waited for in several timers,
 * the clock read again at each. An `at` already past fires on the next turn.
 * Returns a function that cancels it. The timers do not keep the process alive.
 */
export function armExpiry(at: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const check = (): void => {
    if (cancelled) return;
    const delay = at - Date.now();
    if (delay <= 0) return fire();
    timer = setTimeout(check, Math.min(delay, MAX_TIMER_MS));
    timer.unref();
  };
  if (at <= Date.now()) setImmediate(check);
  else check();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
