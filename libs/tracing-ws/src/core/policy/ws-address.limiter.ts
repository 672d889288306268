import { WsTokenBucket } from './ws-token.bucket.js';

/** Addresses remembered at most; past it the least recently seen one is forgotten. */
const MAX_ADDRESSES = 10_000;

/**
 * A token bucket per client address, for requests that cost the application
 * something before any connection exists (the handshake check runs the
 * `authenticate` hook). Memory stays bounded whatever the number of addresses:
 * the least recently seen address is forgotten first, and a forgotten address
 * starts again with a full bucket, which is what an idle one would have anyway.
 */
export class WsAddressLimiter {
  private readonly buckets = new Map<string, WsTokenBucket>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxAddresses: number = MAX_ADDRESSES,
  ) {}

  /** Takes one token for `address`: undefined when allowed, else the milliseconds until the next one. */
  take(address: string, now: number = performance.now()): number | undefined {
    let bucket = this.buckets.get(address);
    // Deleted and set again, so that the Map's order is the order of last use.
    if (bucket) this.buckets.delete(address);
    else {
      if (this.buckets.size >= this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = new WsTokenBucket(this.rate, this.burst, now);
    }
    this.buckets.set(address, bucket);
    return bucket.take(now) ? undefined : bucket.waitMs(now);
  }

  /** Milliseconds until `address` has a token again, without taking one (0: it has one). */
  waitMs(address: string, now: number = performance.now()): number {
    return this.buckets.get(address)?.waitMs(now) ?? 0;
  }

  /** Addresses currently remembered. */
  get size(): number {
    return this.buckets.size;
  }
}
