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
