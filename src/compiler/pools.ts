// Pool processor: validates each IngressPool, resolves its defaults, and decides which namespaces
// may attach routes to it (allowedRoutes: Same | All | Selector on namespace labels).

import type { IngressPool } from '../api/kinds.ts';
import type { IngressPoolSpec } from '../api/ingresspool.ts';
import { analyzeObject } from '../api/validate.ts';
import { cond, ConditionType, Reason, type ConditionVerdict } from './conditions.ts';
import { keyOf, nsOf, type Namespace } from './resources.ts';
import { unsupportedPoolFields } from './unsupported.ts';

export interface PoolContext {
  key: string;
  pool: IngressPool;
  namespace: string;
  /** defaulted spec; null when the pool is invalid */
  spec: IngressPoolSpec | null;
  accepted: ConditionVerdict;
}

export function processPools(pools: IngressPool[]): Map<string, PoolContext> {
  const out = new Map<string, PoolContext>();
  for (const pool of pools) {
    const key = keyOf(pool);
    const gen = pool.metadata.generation;
    const { problems, spec } = analyzeObject(pool);
    const ok = problems.length === 0 && spec !== null;
    const unsupported = ok ? unsupportedPoolFields(spec as IngressPoolSpec) : [];
    out.set(key, {
      key,
      pool,
      namespace: nsOf(pool),
      spec: ok && unsupported.length === 0 ? (spec as IngressPoolSpec) : null,
      accepted: unsupported.length
        ? cond(ConditionType.Accepted, false, Reason.UnsupportedFeature, summarize(unsupported), gen)
        : ok
          ? cond(ConditionType.Accepted, true, Reason.Accepted, 'pool accepted', gen)
          : cond(
              ConditionType.Accepted,
              false,
              Reason.Invalid,
              summarize(problems.map((p) => `${p.path}: ${p.message}`)),
              gen,
            ),
    });
  }
  return out;
}

export function summarize(lines: string[], max = 5): string {
  const head = lines.slice(0, max).join('; ');
  return lines.length > max ? `${head}; and ${lines.length - max} more` : head;
}

export function namespaceLabels(namespaces: Namespace[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const ns of namespaces) out.set(ns.metadata.name, ns.metadata.labels ?? {});
  return out;
}

/** Whether a route in `routeNs` may attach to this pool. */
export function allowsNamespace(
  ctx: PoolContext,
  routeNs: string,
  labels: Map<string, Record<string, string>>,
): boolean {
  const ns = ctx.spec!.allowedRoutes!.namespaces!;
  if (ns.from === 'All') return true;
  if (ns.from === 'Same') return routeNs === ctx.namespace;
  // Every namespace carries kubernetes.io/metadata.name (set by the API server), also offline.
  const have = { ...(labels.get(routeNs) ?? {}), 'kubernetes.io/metadata.name': routeNs };
  return selectorMatches(ns.selector ?? {}, have);
}

export function selectorMatches(
  sel: {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
  },
  labels: Record<string, string>,
): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
