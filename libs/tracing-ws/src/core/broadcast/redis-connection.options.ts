import type { RedisOptions } from 'ioredis';

/** Longest wait between reconnection attempts: Redis coming back is noticed within this. */
export const MAX_RETRY_DELAY_MS = 2000;
/** A command that takes longer fails (and is counted) instead of piling up. */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * The ioredis settings every connection of the library uses (broadcast, presence, admin):
 * nothing queued while Redis is away, no retry of a failed command, a bounded command
 * time, and reconnection forever with a capped backoff, so that cross-instance work
 * resumes by itself. Internal.
 */
export function redisConnectionOptions(connectionName: string): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), MAX_RETRY_DELAY_MS),
    connectionName,
  };
}
