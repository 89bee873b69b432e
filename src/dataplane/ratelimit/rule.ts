// One RateLimitPolicy rule compiled for a snapshot: its match (the router's matchers), its key plan,
// its limit as bucket numbers, its counter store (a Local token-bucket store or the Global Redis
// client, both kept across snapshots by PolicyEnv.keep), its metric children and the
// RateLimit-Policy item it advertises.

import type { RateLimitIR } from '../../ir/snapshot.ts';
import type { PolicyEnv } from '../policy/types.ts';
import type { RequestContext } from '../request-context.ts';
import { CompiledMatch, PATH_ANY, stringMatchFits } from '../router/route-match.ts';
import { cookieValue, headerValue } from '../router/request-values.ts';
import { KeyPlan, queryValue } from './keys.ts';
import { TokenBucketStore } from './local-store.ts';
import { rateLimitMetrics, OUTCOMES, type Outcome } from './metrics.ts';
import { RedisLimiter } from './redis-limiter.ts';
import { policyItem } from './headers.ts';

export class CompiledRule {
  readonly id: string;
  /** `<namespace>/<policy>` */
  readonly policy: string;
  readonly name: string;
  readonly shadow: boolean;
  readonly responseHeaders: boolean;
  readonly match: CompiledMatch | null;
  readonly keys: KeyPlan;
  /** tokens: requests + burst, per process */
  readonly capacity: number;
  /** refill, tokens per ms */
  readonly perMs: number;
  /** µs per token (GCRA emission interval) */
  readonly intervalUs: number;
  readonly cost: number;
  readonly local: TokenBucketStore | null;
  readonly global: RedisLimiter | null;
  readonly timeoutMs: number;
  readonly failOpen: boolean;
  /** the RateLimit-Policy list item of this rule */
  readonly policyItem: string;
  private readonly outcomes: { inc(): void }[];
  readonly log: PolicyEnv['log'];
  /** last shadow-limited log line (ms), one per second at most */
  lastShadowLog = 0;

  constructor(ir: RateLimitIR, env: PolicyEnv) {
    this.id = ir.id;
    this.log = env.log;
    this.policy = `${ir.policy.namespace}/${ir.policy.name}`;
    this.name = ir.id.slice(this.policy.length + 1);
    this.shadow = ir.shadow;
    this.responseHeaders = ir.responseHeaders;
    this.match = ir.match === null ? null : new CompiledMatch(`ratelimit ${ir.id}`, ir.match);
    this.keys = new KeyPlan(ir.key, ir.trustedHops);
    // Local budgets are per process: a replica's budget is shared by its worker processes
    const split = ir.mode === 'Local' ? Math.max(1, env.workers) : 1;
    const requests = Math.max(1, ir.limit.requests / split);
    this.capacity = requests + ir.limit.burst / split;
    this.perMs = requests / ir.limit.periodMs;
    this.intervalUs = (ir.limit.periodMs * 1000) / requests;
    this.cost = ir.cost;
    const m = rateLimitMetrics(env.metrics);
    this.outcomes = OUTCOMES.map((o) => m.decisions.labels(m.base.pool, this.policy, this.name, o));
    const g = ir.global;
    if (ir.mode === 'Global' && g !== null) {
      const ref = g.redisSecretRef;
      this.global = env.keep(
        `ratelimit/redis/${ref.namespace}/${ref.name}/${ref.key}`,
        () => new RedisLimiter(ref, env.secrets, m, env.log),
      );
      this.local = null;
      this.timeoutMs = Math.max(1, g.timeoutMs);
      this.failOpen = g.failureMode === 'Open';
    } else {
      this.local = env.keep(
        `ratelimit/local/${ir.id}`,
        () => new TokenBucketStore(this.policy, this.name, m),
      );
      this.global = null;
      this.timeoutMs = 0;
      this.failOpen = true;
    }
    this.policyItem = policyItem(this.policy, this.name, ir.limit.requests, ir.limit.periodMs);
  }

  count(o: Outcome): void {
    this.outcomes[OUTCOMES.indexOf(o)]!.inc();
  }

  /** Does the rule's `match` select this request? */
  fits(rc: RequestContext): boolean {
    const m = this.match;
    if (m === null) return true;
    if (m.pathKind !== PATH_ANY && !m.pathFits(rc.path)) return false;
    if (m.method !== null && m.method !== rc.method) return false;
    if (m.headers !== null)
      for (const h of m.headers) if (!stringMatchFits(h, headerValue(rc.headers, h.name))) return false;
    if (m.cookies !== null) {
      const c = headerValue(rc.headers, 'cookie');
      for (const x of m.cookies) if (cookieValue(c, x.name) !== x.value) return false;
    }
    if (m.query !== null)
      for (const q of m.query) if (!stringMatchFits(q, queryValue(rc.query, q.name))) return false;
    return true;
  }
}
