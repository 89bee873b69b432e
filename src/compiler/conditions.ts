// Status verdicts as data: condition types and reasons (constant enums, Gateway API style) and
// the per-object status the compiler returns. The operator's status writer adds timestamps.

export const ConditionType = {
  Accepted: 'Accepted',
  ResolvedRefs: 'ResolvedRefs',
  Programmed: 'Programmed',
  Ready: 'Ready',
} as const;

export const Reason = {
  Accepted: 'Accepted',
  Invalid: 'Invalid',
  PartiallyInvalid: 'PartiallyInvalid',
  PoolNotFound: 'PoolNotFound',
  NotAllowedByPool: 'NotAllowedByPool',
  Conflict: 'Conflict',
  ResolvedRefs: 'ResolvedRefs',
  BackendNotFound: 'BackendNotFound',
  PortNotFound: 'PortNotFound',
  /** a backend's protocol cannot serve the rule (gRPC-Web needs H2C backends) */
  UnsupportedProtocol: 'UnsupportedProtocol',
  TargetNotFound: 'TargetNotFound',
  /** a field the data plane does not enforce yet (see unsupported.ts) */
  UnsupportedFeature: 'UnsupportedFeature',
} as const;

export interface ConditionVerdict {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface PoolVerdict {
  observedGeneration?: number;
  conditions: ConditionVerdict[];
  attachedRoutes: number;
  configVersion?: string;
}

export interface RouteParentVerdict {
  poolRef: { name: string; namespace: string };
  conditions: ConditionVerdict[];
}

export interface RouteVerdict {
  observedGeneration?: number;
  /** aggregated over `parents` (routeConditions), so `kubectl wait --for=condition=Accepted` works */
  conditions: ConditionVerdict[];
  parents: RouteParentVerdict[];
}

export interface PolicyVerdict {
  observedGeneration?: number;
  conditions: ConditionVerdict[];
}

export interface StatusVerdicts {
  /** keyed by `<namespace>/<name>` */
  ingressPools: Record<string, PoolVerdict>;
  routeSplits: Record<string, RouteVerdict>;
  rateLimitPolicies: Record<string, PolicyVerdict>;
}

export function cond(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  observedGeneration?: number,
): ConditionVerdict {
  const c: ConditionVerdict = { type, status: ok ? 'True' : 'False', reason, message };
  if (observedGeneration !== undefined) c.observedGeneration = observedGeneration;
  return c;
}

function poolName(p: RouteParentVerdict): string {
  return `IngressPool ${p.poolRef.namespace}/${p.poolRef.name}`;
}

/** a parent's message, prefixed by its pool unless it already names it */
function prefixed(p: RouteParentVerdict, message: string): string {
  return message.includes(`${p.poolRef.namespace}/${p.poolRef.name}`)
    ? message
    : `${poolName(p)}: ${message}`;
}

/**
 * A RouteSplit's top-level conditions, aggregated over its parents (docs/DESIGN-NOTES.md "RouteSplit
 * status"): Accepted is True only when every parent accepted the route, else False with the first
 * refusing parent's reason and its message prefixed by the pool; ResolvedRefs likewise over the
 * parents that report it, and absent when none does (a route no pool accepted resolves nothing).
 */
export function routeConditions(
  parents: RouteParentVerdict[],
  observedGeneration?: number,
): ConditionVerdict[] {
  const out: ConditionVerdict[] = [];
  for (const type of [ConditionType.Accepted, ConditionType.ResolvedRefs]) {
    const reporting = parents.filter((p) => p.conditions.some((c) => c.type === type));
    if (reporting.length === 0) {
      if (type === ConditionType.Accepted)
        out.push(cond(type, false, Reason.PoolNotFound, 'no parent pool reported', observedGeneration));
      continue;
    }
    const failing = reporting.find((p) => p.conditions.find((c) => c.type === type)!.status !== 'True');
    if (failing === undefined) {
      const names = reporting.map(poolName).join(', ');
      const why =
        type === ConditionType.Accepted ? `accepted by ${names}` : `all backends resolved for ${names}`;
      out.push(
        cond(
          type,
          true,
          type === ConditionType.Accepted ? Reason.Accepted : Reason.ResolvedRefs,
          why,
          observedGeneration,
        ),
      );
    } else {
      const c = failing.conditions.find((x) => x.type === type)!;
      out.push(cond(type, false, c.reason, prefixed(failing, c.message), observedGeneration));
    }
  }
  return out;
}
