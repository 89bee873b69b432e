// Local mode: token buckets per key in this process. One store per rule id, kept across snapshots
// (PolicyEnv.keep), so a config change does not refill anyone's bucket. The store holds only the
// level of each bucket; capacity and refill rate come with each call from the rule of the snapshot
// being served, so a changed limit applies at once to the levels already counted.
//
// Memory is bounded two ways: a bucket that has refilled to full is indistinguishable from a bucket
// that does not exist, so a sweep drops those (idle keys expire by themselves); and a store never
// holds more than `maxKeys` buckets: a new key beyond the cap evicts the oldest-created one (its
// client starts full again, counted in bulkhead_ratelimit_keys_evicted_total).

import type { KeyCounter, RateLimitMetrics } from './metrics.ts';

interface Bucket {
  tokens: number;
  /** when `tokens` was computed (ms, performance.now clock) */
  at: number;
  /** when the bucket is full again if nothing takes from it */
  fullAt: number;
}

/** The answer of one take(), written into a reused object (no allocation per request). */
export interface TakeResult {
  allowed: boolean;
  /** whole tokens left after this request */
  remaining: number;
  /** ms until the bucket is full again */
  resetMs: number;
  /** when limited: ms until `cost` tokens are there */
  retryMs: number;
}

/** Tunables of every Local store; tests lower them. */
export const LocalStoreLimits = { maxKeysPerRule: 100_000, sweepMs: 10_000 };

export class TokenBucketStore implements KeyCounter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;
  private readonly maxKeys = LocalStoreLimits.maxKeysPerRule;
  private evictedChild: { inc(): void } | null = null;

  constructor(
    readonly policy: string,
    readonly rule: string,
    private readonly metrics: RateLimitMetrics,
  ) {
    this.timer = setInterval(sweep, LocalStoreLimits.sweepMs, this);
    this.timer.unref();
    metrics.stores.add(this);
  }

  get size(): number {
    return this.buckets.size;
  }

  /**
   * Take `cost` tokens for `key` from a bucket of `capacity` tokens refilling at `perMs` tokens per
   * millisecond. A request that does not fit takes nothing.
   */
  take(key: string, now: number, capacity: number, perMs: number, cost: number, out: TakeResult): void {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictOldest();
      b = { tokens: capacity, at: now, fullAt: now };
      this.buckets.set(key, b);
    } else {
      const t = b.tokens + (now - b.at) * perMs;
      b.tokens = t > capacity ? capacity : t;
      b.at = now;
    }
    if (b.tokens >= cost) {
      b.tokens -= cost;
      out.allowed = true;
      out.retryMs = 0;
    } else {
      out.allowed = false;
      out.retryMs = (cost - b.tokens) / perMs;
    }
    out.remaining = Math.floor(b.tokens);
    out.resetMs = (capacity - b.tokens) / perMs;
    b.fullAt = now + out.resetMs;
  }

  private evictOldest(): void {
    const first = this.buckets.keys().next();
    if (first.done === true) return;
    this.buckets.delete(first.value);
    const m = this.metrics;
    (this.evictedChild ??= m.evicted.labels(m.base.pool, this.policy, this.rule)).inc();
  }

  /** Drop the buckets that are full again (exported for tests). */
  sweep(now: number): void {
    for (const [k, b] of this.buckets) if (b.fullAt <= now) this.buckets.delete(k);
  }

  close(): void {
    clearInterval(this.timer);
    this.metrics.stores.delete(this);
    this.buckets.clear();
  }
}

function sweep(s: TokenBucketStore): void {
  s.sweep(performance.now());
}
