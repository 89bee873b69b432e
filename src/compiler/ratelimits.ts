// Policy processor: attaches RateLimitPolicies to routes (or a rule of a route) and pools,
// rejects missing targets (TargetNotFound) and second policies on the same target (Conflict, the
// older one wins), and compiles each policy rule to a RateLimitIR. Local limits with
// distribution SplitAcrossReplicas are divided by the pool's ready replicas so the pool total holds.

import type { RateLimitPolicy } from '../api/kinds.ts';
import type { RateLimitPolicySpec } from '../api/ratelimitpolicy.ts';
import { analyzeObject } from '../api/validate.ts';
import type { RateLimitIR, RateLimitKeyPart } from '../ir/snapshot.ts';
import { cond, ConditionType, Reason, type PolicyVerdict } from './conditions.ts';
import { durationMs } from './duration.ts';
import { summarize, type PoolContext } from './pools.ts';
import { keyOf, nsOf, olderFirst } from './resources.ts';
import { toMatch, type AttachedRoute } from './routes.ts';

export interface PolicyAttachment {
  poolKey: string;
  /** null = every route of the pool */
  routeKey: string | null;
  /** null = every rule of the route */
  rule: string | null;
  limits: RateLimitIR[];
}

export function processPolicies(
  policies: RateLimitPolicy[],
  acceptedRoutes: Map<string, AttachedRoute>,
  pools: Map<string, PoolContext>,
): { verdicts: Map<string, PolicyVerdict>; attachments: PolicyAttachment[] } {
  const verdicts = new Map<string, PolicyVerdict>();
  const attachments: PolicyAttachment[] = [];
  const claimed = new Map<string, string>();

  for (const policy of [...policies].sort(olderFirst)) {
    const key = keyOf(policy);
    const ns = nsOf(policy);
    const gen = policy.metadata.generation;
    const verdict = (ok: boolean, reason: string, message: string) =>
      verdicts.set(key, {
        observedGeneration: gen,
        conditions: [cond(ConditionType.Accepted, ok, reason, message, gen)],
      });

    const { problems, spec } = analyzeObject(policy);
    if (problems.length > 0 || !spec) {
      verdict(false, Reason.Invalid, summarize(problems.map((p) => `${p.path}: ${p.message}`)));
      continue;
    }
    const s = spec as RateLimitPolicySpec;
    const t = s.targetRef;
    let poolKey: string;
    let routeKey: string | null = null;
    if (t.kind === 'IngressPool') {
      const pool = pools.get(`${ns}/${t.name}`);
      if (!pool?.spec) {
        verdict(
          false,
          Reason.TargetNotFound,
          `IngressPool ${ns}/${t.name} ${pool ? 'is not accepted' : 'not found'}`,
        );
        continue;
      }
      poolKey = pool.key;
    } else {
      const route = acceptedRoutes.get(`${ns}/${t.name}`);
      if (!route) {
        verdict(
          false,
          Reason.TargetNotFound,
          `RouteSplit ${ns}/${t.name} not found or not accepted by its pool`,
        );
        continue;
      }
      if (t.rule !== undefined && !route.rules.some((r) => r.name === t.rule)) {
        verdict(false, Reason.TargetNotFound, `RouteSplit ${ns}/${t.name} has no valid rule named ${t.rule}`);
        continue;
      }
      poolKey = route.pool.key;
      routeKey = route.key;
    }
    const targetKey = `${t.kind}/${ns}/${t.name}#${t.rule ?? '*'}`;
    const holder = claimed.get(targetKey);
    if (holder) {
      verdict(
        false,
        Reason.Conflict,
        `${t.kind} ${ns}/${t.name}${t.rule ? ` rule ${t.rule}` : ''} already has RateLimitPolicy ${holder}`,
      );
      continue;
    }
    claimed.set(targetKey, key);
    const pool = pools.get(poolKey)!;
    attachments.push({
      poolKey,
      routeKey,
      rule: t.rule ?? null,
      limits: s.rules.map((r) => compileRule(policy, s, r, pool)),
    });
    verdict(true, Reason.Accepted, `attached to ${t.kind} ${ns}/${t.name}${t.rule ? ` rule ${t.rule}` : ''}`);
  }
  return { verdicts, attachments };
}

/** Ready replicas from the pool's status; before the first status, the replicas it asks for. */
export function replicasOf(pool: PoolContext): number {
  const ready = pool.pool.status?.readyReplicas;
  if (typeof ready === 'number' && ready > 0) return ready;
  const spec = pool.spec!;
  return Math.max(1, spec.autoscaling ? spec.autoscaling.minReplicas : (spec.replicas ?? 2));
}

function compileRule(
  policy: RateLimitPolicy,
  s: RateLimitPolicySpec,
  r: RateLimitPolicySpec['rules'][number],
  pool: PoolContext,
): RateLimitIR {
  const ns = nsOf(policy);
  const split = s.mode === 'Local' && s.distribution === 'SplitAcrossReplicas' ? replicasOf(pool) : 1;
  // keys in sorted order: JSON.stringify of the IR is its canonical form (see canonical.ts)
  return {
    cost: r.cost,
    global:
      s.mode === 'Global' && s.global
        ? {
            failureMode: s.global.failureMode,
            redisSecretRef: {
              key: s.global.redis.secretRef.key,
              name: s.global.redis.secretRef.name,
              namespace: ns,
            },
            timeoutMs: durationMs(s.global.timeout),
          }
        : null,
    id: `${ns}/${policy.metadata.name}/${r.name}`,
    key: (r.key ?? []).map(keyPart),
    limit: {
      burst: Math.ceil(r.limit.burst / split),
      periodMs: durationMs(r.limit.period),
      requests: Math.max(1, Math.ceil(r.limit.requests / split)),
    },
    match: r.match ? toMatch(r.match) : null,
    mode: s.mode,
    policy: { name: policy.metadata.name, namespace: ns },
    responseHeaders: s.responseHeaders,
    shadow: s.shadow,
    trustedHops: s.clientIP?.trustedHops ?? 0,
  };
}

function keyPart(k: { type: string; name?: string; prefixLength?: number }): RateLimitKeyPart {
  switch (k.type) {
    case 'Header':
      return { name: k.name!.toLowerCase(), type: 'Header' };
    case 'QueryParam':
      return { name: k.name!, type: 'QueryParam' };
    case 'ClientIP':
      return { ...clientIPPrefixes(k.prefixLength), type: 'ClientIP' };
    case 'Route':
      return { type: 'Route' };
    default:
      return { type: 'Path' };
  }
}

/**
 * The API has one `prefixLength` for both address families; each family gets the mask that fits it:
 * unset = the whole address (/32 and /128); 0-32 is an IPv4 mask (IPv6 clients stay whole, /128 —
 * an IPv4 /24 never lumps IPv6 clients into a /24); 33-128 is an IPv6 mask (IPv4 clients stay /32).
 */
export function clientIPPrefixes(prefixLength: number | undefined): {
  ipv4Prefix: number;
  ipv6Prefix: number;
} {
  if (prefixLength === undefined) return { ipv4Prefix: 32, ipv6Prefix: 128 };
  return prefixLength <= 32
    ? { ipv4Prefix: prefixLength, ipv6Prefix: 128 }
    : { ipv4Prefix: 32, ipv6Prefix: prefixLength };
}
