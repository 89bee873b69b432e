// The rate-limit policy of one route (phase 300 of the policy chain): every RateLimitPolicy rule the
// compiler attached to the route (pool-wide, route-wide and rule-specific ones, in that order) whose
// `match` selects the request and whose key parts are all present counts the request. The request
// is limited when any non-shadow rule is out of tokens: 429 (gRPC: RESOURCE_EXHAUSTED in a
// trailers-only answer) with Retry-After and RateLimit headers. Rules that allowed it have still
// taken their tokens (each rule is its own budget, as Envoy's descriptors are). Shadow rules count
// and log, never block. A Global rule Redis cannot decide in time follows its failureMode: Open lets
// the request through, Closed answers 503 (reason ratelimit-unavailable).
//
// Local rules decide synchronously (no allocation: a scratch Decision is reused); a route with a
// Global rule gets one Decision per request, suspends it (Pending) and resumes or answers it when
// the last Redis reply or timeout for it arrived.

import type { RateLimitIR, RouteIR } from '../../ir/snapshot.ts';
import { Errors, GrpcStatus, proxyError } from '../errors.ts';
import {
  Answered,
  Continue,
  Pending,
  type PolicyEnv,
  type RoutePolicy,
  type Verdict,
} from '../policy/types.ts';
import type { RequestContext } from '../request-context.ts';
import type { TakeResult } from './local-store.ts';
import { GlobalEntry, type GlobalRequester } from './redis-limiter.ts';
import { redisKey } from './gcra-script.ts';
import { seconds, stateItem } from './headers.ts';
import { CompiledRule } from './rule.ts';

export const RateLimited = proxyError(
  'BH_ERR_RATE_LIMITED',
  429,
  'rate-limited',
  GrpcStatus.RESOURCE_EXHAUSTED,
  'rate limit exceeded',
);
export const RateLimitUnavailable = proxyError(
  'BH_ERR_RATELIMIT_UNAVAILABLE',
  503,
  'ratelimit-unavailable',
  GrpcStatus.UNAVAILABLE,
  'the rate limiter could not decide and its failureMode is Closed',
  true,
);

const NONE = 0;
const LIMITED = 1;
const CLOSED = 2;

/** What the rules said about one request so far. */
class Decision {
  rc: RequestContext | null = null;
  /** Global replies still awaited */
  waiting = 0;
  /** true once onRequest returned (a reply after that must resume or answer the request itself) */
  returned = false;
  blocked = NONE;
  retryMs = 0;
  policies = '';
  states = '';

  reset(rc: RequestContext): void {
    this.rc = rc;
    this.waiting = 0;
    this.returned = false;
    this.blocked = NONE;
    this.retryMs = 0;
    this.policies = '';
    this.states = '';
  }

  /** one rule's answer for this request */
  note(r: CompiledRule, allowed: boolean, remaining: number, retryMs: number, resetMs: number): void {
    if (allowed) r.count('allowed');
    else if (r.shadow) {
      r.count('shadow-limited');
      shadowLog(r, this.rc!);
    } else {
      r.count('limited');
      this.blocked = LIMITED;
      if (retryMs > this.retryMs) this.retryMs = retryMs;
    }
    if (r.responseHeaders || (!allowed && !r.shadow)) {
      const sep = this.policies === '' ? '' : ', ';
      this.policies += sep + r.policyItem;
      this.states += sep + stateItem(r.policy, r.name, remaining, seconds(allowed ? resetMs : retryMs));
    }
  }

  failed(r: CompiledRule): void {
    if (r.failOpen || r.shadow) r.count('failure-open');
    else {
      r.count('failure-closed');
      if (this.blocked === NONE) this.blocked = CLOSED;
    }
  }
}

function shadowLog(r: CompiledRule, rc: RequestContext): void {
  const now = Date.now();
  if (now - r.lastShadowLog < 1000) return;
  r.lastShadowLog = now;
  r.log.warn(
    { policy: r.policy, rule: r.name, route: rc.route?.id },
    'rate limit (shadow): would have limited',
  );
}

const take: TakeResult = { allowed: true, remaining: 0, resetMs: 0, retryMs: 0 };

export class RateLimitRoutePolicy implements RoutePolicy, GlobalRequester {
  readonly kind = 'ratelimit';
  private readonly scratch = new Decision();
  private readonly hasGlobal: boolean;

  constructor(private readonly rules: CompiledRule[]) {
    this.hasGlobal = rules.some((r) => r.global !== null);
  }

  onRequest(rc: RequestContext): Verdict {
    const d = this.hasGlobal ? new Decision() : this.scratch;
    d.reset(rc);
    const now = performance.now();
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!r.fits(rc)) continue;
      const key = r.keys.keyOf(rc);
      if (key === null) continue;
      if (r.local !== null) {
        r.local.take(key, now, r.capacity, r.perMs, r.cost, take);
        d.note(r, take.allowed, take.remaining, take.retryMs, take.resetMs);
        continue;
      }
      const e = new GlobalEntry(this, d, r, redisKey(r.id, key), r.intervalUs, r.capacity, r.cost);
      if (r.global!.send(e, r.timeoutMs)) d.waiting++;
      else d.failed(r);
    }
    d.returned = true;
    if (d.waiting > 0) return Pending;
    return finish(d) ? Continue : Answered;
  }

  answered(e: GlobalEntry, allowed: boolean, remaining: number, retryMs: number, resetMs: number): void {
    const d = e.state as Decision;
    d.note(ruleOf(e), allowed, remaining, retryMs, resetMs);
    if (--d.waiting === 0 && d.returned) complete(d);
  }

  failed(e: GlobalEntry): void {
    const d = e.state as Decision;
    d.failed(ruleOf(e));
    if (--d.waiting === 0 && d.returned) complete(d);
  }

  broken(e: GlobalEntry): void {
    const rc = (e.state as Decision).rc;
    if (rc === null) return;
    rc.rt.metrics.policyErrors.labels(rc.rt.metrics.pool, this.kind).inc();
    rc.answerError(Errors.policyFailure);
  }
}

/** The last Redis answer for a suspended request came in: answer it, or let it go on. */
function complete(d: Decision): void {
  const rc = d.rc!;
  if (finish(d)) rc.resume();
}

function ruleOf(e: GlobalEntry): CompiledRule {
  return e.rule as CompiledRule;
}

/** Apply a complete decision: answer 429/503 (false) or add the headers and let it through (true). */
function finish(d: Decision): boolean {
  const rc = d.rc!;
  d.rc = null;
  if (d.blocked === CLOSED) {
    rc.answerError(RateLimitUnavailable);
    return false;
  }
  if (d.blocked === LIMITED) {
    const flat = ['retry-after', String(seconds(d.retryMs))];
    if (d.policies !== '') flat.push('ratelimit-policy', d.policies, 'ratelimit', d.states);
    rc.answerError(RateLimited, flat);
    return false;
  }
  if (d.policies !== '') {
    rc.addResponseHeader('ratelimit-policy', d.policies);
    rc.addResponseHeader('ratelimit', d.states);
  }
  return true;
}

/** The route's rate-limit policy, or null when the compiler attached none. */
export function makeRateLimitPolicy(route: RouteIR, env: PolicyEnv): RoutePolicy | null {
  if (route.rateLimits.length === 0) return null;
  const byId = new Map<string, RateLimitIR>();
  for (const l of env.snapshot.rateLimits) byId.set(l.id, l);
  const rules: CompiledRule[] = [];
  for (const id of route.rateLimits) {
    const ir = byId.get(id);
    if (ir === undefined)
      throw new Error(`routes[${route.id}].rateLimits: no rate limit ${id} in the snapshot`);
    rules.push(new CompiledRule(ir, env));
  }
  return new RateLimitRoutePolicy(rules);
}
