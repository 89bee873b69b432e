// The policy registry and the chain runner. Each kind of policy lives in its own file and adds one
// line to FACTORIES (phase order: CORS preflight, authentication, rate limits). A route's chain is
// built once per snapshot; a route with no policy gets `null`, so the request path pays one null test.

import type { RouteIR } from '../../ir/snapshot.ts';
import type { RequestContext } from '../request-context.ts';
import { Errors } from '../errors.ts';
import {
  Answered,
  Continue,
  Pending,
  type PolicyEnv,
  type PolicyFactory,
  type RoutePolicy,
} from './types.ts';

export * from './types.ts';

interface Registered {
  /** lower runs first: 100 CORS, 200 authentication, 300 rate limits */
  readonly phase: number;
  readonly make: PolicyFactory;
}

const FACTORIES: Registered[] = [];

/** Register a policy kind (module-level, once). Tests may register their own. */
export function registerPolicy(phase: number, make: PolicyFactory): () => void {
  const entry = { phase, make };
  FACTORIES.push(entry);
  FACTORIES.sort((a, b) => a.phase - b.phase);
  return () => {
    const i = FACTORIES.indexOf(entry);
    if (i !== -1) FACTORIES.splice(i, 1);
  };
}

export function buildPolicyChain(route: RouteIR, env: PolicyEnv): RoutePolicy[] | null {
  let chain: RoutePolicy[] | null = null;
  for (const f of FACTORIES) {
    const p = f.make(route, env);
    if (p !== null) (chain ??= []).push(p);
  }
  return chain;
}

/**
 * Run the chain from `rc.step`. true: every policy let the request through (go on to the route);
 * false: a policy answered it, or suspended it and will call `rc.resume()`.
 */
export function runPolicies(rc: RequestContext, chain: RoutePolicy[]): boolean {
  while (rc.step < chain.length) {
    const p = chain[rc.step++]!;
    let v: number;
    try {
      v = p.onRequest(rc);
    } catch (err) {
      // a policy bug costs this request, never the process
      rc.rt.metrics.policyErrors.labels(rc.rt.metrics.pool, p.kind).inc();
      rc.rt.accessLog.logger.warn({ err: String(err), policy: p.kind, route: rc.route?.id }, 'policy failed');
      rc.answerError(Errors.policyFailure);
      return false;
    }
    if (v === Continue) continue;
    if (v === Pending) {
      rc.pending = true;
      return false;
    }
    if (v === Answered) {
      if (!rc.answered) rc.answerError(Errors.policyFailure); // claimed an answer it did not make
      return false;
    }
  }
  return true;
}

/** Response-head hooks of the chain (policies that define one), in chain order. */
export function responseHooks(chain: RoutePolicy[] | null): RoutePolicy[] | null {
  if (chain === null) return null;
  const hooks = chain.filter((p) => p.onResponseHead !== undefined);
  return hooks.length === 0 ? null : hooks;
}
