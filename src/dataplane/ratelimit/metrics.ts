// Rate-limit metrics, registered once in a data plane's registry (the first rate-limited snapshot
// creates them): decisions per policy, rule and outcome; Redis round-trip latency and errors; keys
// tracked by Local buckets and keys evicted by the max-keys cap. Rules cache their label children
// once per snapshot, so a decision increments a counter without building a label set.

import { Counter, Gauge, Histogram } from 'prom-client';
import type { DataplaneMetrics } from '../metrics.ts';

export type Outcome = 'allowed' | 'limited' | 'shadow-limited' | 'failure-open' | 'failure-closed';
export const OUTCOMES: readonly Outcome[] = [
  'allowed',
  'limited',
  'shadow-limited',
  'failure-open',
  'failure-closed',
];

/** Something that can say how many keys it tracks right now (a Local bucket store). */
export interface KeyCounter {
  readonly policy: string;
  readonly rule: string;
  readonly size: number;
}

export class RateLimitMetrics {
  readonly stores = new Set<KeyCounter>();
  readonly decisions: Counter<'pool' | 'policy' | 'rule' | 'outcome'>;
  readonly redisDuration: Histogram<'pool'>;
  readonly redisErrors: Counter<'pool' | 'reason'>;
  readonly evicted: Counter<'pool' | 'policy' | 'rule'>;

  constructor(readonly base: DataplaneMetrics) {
    const registers = [base.registry];
    this.decisions = new Counter({
      name: 'bulkhead_ratelimit_decisions_total',
      help: 'Rate-limit decisions by policy, rule and outcome (allowed, limited, shadow-limited, failure-open, failure-closed)',
      labelNames: ['pool', 'policy', 'rule', 'outcome'] as const,
      registers,
    });
    this.redisDuration = new Histogram({
      name: 'bulkhead_ratelimit_redis_duration_seconds',
      help: 'Round trip of one Global rate-limit decision to Redis (answered ones; timeouts are errors)',
      labelNames: ['pool'] as const,
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    });
    this.redisErrors = new Counter({
      name: 'bulkhead_ratelimit_redis_errors_total',
      help: 'Global decisions Redis did not make: timeout, error, unavailable (not connected), overflow (too many in flight), no-url',
      labelNames: ['pool', 'reason'] as const,
      registers,
    });
    this.evicted = new Counter({
      name: 'bulkhead_ratelimit_keys_evicted_total',
      help: 'Local counters dropped because a rule reached its max-keys cap (those keys start full again)',
      labelNames: ['pool', 'policy', 'rule'] as const,
      registers,
    });
    const stores = this.stores;
    new Gauge({
      name: 'bulkhead_ratelimit_keys',
      help: 'Keys tracked by Local rate-limit buckets in this process',
      labelNames: ['pool', 'policy', 'rule'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of stores) this.labels(base.pool, s.policy, s.rule).set(s.size);
      },
    });
  }
}

const byBase = new WeakMap<DataplaneMetrics, RateLimitMetrics>();

/** The rate-limit metrics of one data plane's registry (created on first use). */
export function rateLimitMetrics(base: DataplaneMetrics): RateLimitMetrics {
  let m = byBase.get(base);
  if (m === undefined) byBase.set(base, (m = new RateLimitMetrics(base)));
  return m;
}
