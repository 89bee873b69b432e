// The one status writer (Contour's habit): build the desired status from the compiler's verdict
// and the live world → skip if equal → write the status subresource, re-reading on a 409. The
// cached object is compared first, so an unchanged world costs no request at all; a fresh GET only
// precedes an actual write. Condition timestamps are ours (the compiler has no clock): a condition
// whose status did not change keeps its lastTransitionTime. A verdict compiled for an older
// generation than the object now has is dropped: the newer generation's pass will come.

import {
  cond,
  type ConditionVerdict,
  type PolicyVerdict,
  type PoolVerdict,
  type RouteVerdict,
} from '../compiler/conditions.ts';
import { RESOURCES, type ApiResource } from './api-resources.ts';
import { isConflict, isNotFound, type KubeObject, type KubeRest } from './kube-rest.ts';

export interface Condition extends ConditionVerdict {
  lastTransitionTime: string;
}

/** What the config stream reports for a pool: every ready replica acknowledged `version` (or not). */
export interface ProgrammedVerdict {
  version: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Reasons the operator adds to the compiler's (conditions.ts) for Programmed and Ready. */
export const OperatorReason = {
  Pending: 'Pending',
  NotAccepted: 'NotAccepted',
  ReplicasReady: 'ReplicasReady',
  ReplicasNotReady: 'ReplicasNotReady',
  WorkloadNotFound: 'WorkloadNotFound',
} as const;

export interface PoolLiveState {
  /** the pool's Deployment or DaemonSet from the cache, if any */
  workload?: KubeObject;
  /** the pool's traffic Service from the cache, if any */
  service?: KubeObject;
}

export interface StatusWriterOptions {
  /** false once leadership is lost: the write is refused before it is sent */
  canWrite(): boolean;
  cached(res: ApiResource, namespace: string, name: string): KubeObject | undefined;
  onWrite?(kind: string): void;
  /** after a write: each top-level condition whose status or reason changed (for logs and Events) */
  onTransition?(res: ApiResource, obj: KubeObject, now: Condition, before: Condition | undefined): void;
  now?(): number;
}

export class LeadershipLostError extends Error {
  readonly code = 'BH_ERR_NOT_LEADER';
}

type StatusBuilder = (live: KubeObject) => Record<string, unknown> | null;

export class StatusWriter {
  private readonly programmed = new Map<string, ProgrammedVerdict>();

  constructor(
    private readonly rest: KubeRest,
    private readonly opts: StatusWriterOptions,
  ) {}

  /** Called by the config stream; takes effect at the pool's next status write. */
  setProgrammed(poolKey: string, verdict: ProgrammedVerdict): void {
    this.programmed.set(poolKey, verdict);
  }

  programmedOf(poolKey: string): ProgrammedVerdict | undefined {
    return this.programmed.get(poolKey);
  }

  forgetPool(poolKey: string): void {
    this.programmed.delete(poolKey);
  }

  writePool(key: string, verdict: PoolVerdict, state: PoolLiveState): Promise<boolean> {
    const programmed = this.programmed.get(key);
    return this.write(RESOURCES.IngressPool, key, verdict.observedGeneration, (live) => {
      const gen = live.metadata.generation;
      const { ready, desired, found } = replicasOf(state.workload);
      const conds = [
        ...verdict.conditions,
        withGen(programmedCondition(verdict, programmed, live), gen),
        withGen(readyCondition(ready, desired, found), gen),
      ];
      const status: Record<string, unknown> = {
        observedGeneration: gen,
        conditions: this.stamp(conds, (live.status as { conditions?: Condition[] } | undefined)?.conditions),
        readyReplicas: ready,
        attachedRoutes: verdict.attachedRoutes,
        addresses: addressesOf(state.service),
      };
      if (verdict.configVersion) status.configVersion = verdict.configVersion;
      return status;
    });
  }

  writeRoute(key: string, verdict: RouteVerdict): Promise<boolean> {
    return this.write(RESOURCES.RouteSplit, key, verdict.observedGeneration, (live) => {
      const liveStatus =
        (live.status as {
          conditions?: Condition[];
          parents?: { poolRef: { name: string; namespace: string }; conditions?: Condition[] }[];
        }) ?? {};
      const old = liveStatus.parents ?? [];
      return {
        conditions: this.stamp(verdict.conditions, liveStatus.conditions),
        parents: verdict.parents.map((p) => {
          const prev = old.find(
            (o) => o.poolRef?.name === p.poolRef.name && o.poolRef?.namespace === p.poolRef.namespace,
          );
          return {
            poolRef: { name: p.poolRef.name, namespace: p.poolRef.namespace },
            conditions: this.stamp(p.conditions, prev?.conditions),
          };
        }),
      };
    });
  }

  writePolicy(key: string, verdict: PolicyVerdict): Promise<boolean> {
    return this.write(RESOURCES.RateLimitPolicy, key, verdict.observedGeneration, (live) => ({
      conditions: this.stamp(
        verdict.conditions,
        (live.status as { conditions?: Condition[] } | undefined)?.conditions,
      ),
    }));
  }

  /** true when a write was made; false when skipped (equal, gone, or a stale verdict) */
  private async write(
    res: ApiResource,
    key: string,
    verdictGen: number | undefined,
    build: StatusBuilder,
  ): Promise<boolean> {
    const [namespace, name] = splitKey(key);
    const guarded: StatusBuilder = (live) => {
      const gen = live.metadata.generation;
      if (verdictGen !== undefined && gen !== undefined && gen > verdictGen) return null;
      return build(live);
    };
    // The cached object is the first candidate (its resourceVersion guards the write); a fresh GET
    // only follows a 409, i.e. when the cache was behind.
    let candidate = this.opts.cached(res, namespace, name);
    for (let attempt = 0; attempt < 5; attempt++) {
      let live: KubeObject;
      if (candidate) {
        live = candidate;
        candidate = undefined;
      } else {
        try {
          live = await this.rest.get(res, namespace, name);
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      }
      const desired = guarded(live);
      if (!desired || sameJson(desired, live.status)) return false;
      if (!this.opts.canWrite())
        throw new LeadershipLostError(`not the leader: status of ${res.kind} ${key} left alone`);
      try {
        await this.rest.update(res, { ...live, status: desired }, 'status');
        this.opts.onWrite?.(res.kind);
        if (this.opts.onTransition) this.transitions(res, live, desired);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        if (!isConflict(err)) throw err;
      }
    }
    throw new Error(
      `BH_ERR_STATUS_CONFLICT: status of ${res.kind} ${key} kept conflicting after 5 attempts; retried later`,
    );
  }

  private transitions(res: ApiResource, live: KubeObject, desired: Record<string, unknown>): void {
    const before = (live.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
    for (const c of (desired.conditions as Condition[] | undefined) ?? []) {
      const prev = before.find((b) => b.type === c.type);
      if (prev && prev.status === c.status && prev.reason === c.reason) continue;
      this.opts.onTransition!(res, live, c, prev);
    }
  }

  private stamp(conds: ConditionVerdict[], existing: Condition[] | undefined): Condition[] {
    const now = new Date(this.opts.now?.() ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return conds.map((cv) => {
      const prev = existing?.find((e) => e.type === cv.type);
      const out: Condition = {
        type: cv.type,
        status: cv.status,
        reason: cv.reason,
        message: cv.message,
        lastTransitionTime: prev && prev.status === cv.status ? prev.lastTransitionTime : now,
      };
      if (cv.observedGeneration !== undefined) out.observedGeneration = cv.observedGeneration;
      return out;
    });
  }
}

function withGen(cv: ConditionVerdict, gen: number | undefined): ConditionVerdict {
  return gen === undefined ? cv : { ...cv, observedGeneration: gen };
}

function programmedCondition(
  verdict: PoolVerdict,
  programmed: ProgrammedVerdict | undefined,
  live: KubeObject,
): ConditionVerdict {
  const version = verdict.configVersion;
  const accepted = verdict.conditions.some((x) => x.type === 'Accepted' && x.status === 'True');
  if (!accepted || !version)
    return cond('Programmed', false, OperatorReason.NotAccepted, 'the pool is not accepted');
  if (programmed?.version === version) {
    const { status, reason, message } = programmed;
    return { type: 'Programmed', status, reason, message };
  }
  const kept = programmed ? undefined : liveProgrammed(live, version);
  return (
    kept ??
    cond('Programmed', false, OperatorReason.Pending, `waiting for data planes to acknowledge ${version}`)
  );
}

/**
 * Programmed as the object already says for this very config version, when this instance has heard
 * nothing yet (a new leader): the data planes acknowledged that version whoever was leading then.
 */
function liveProgrammed(live: KubeObject, version: string): ConditionVerdict | undefined {
  const st = live.status as { configVersion?: string; conditions?: Condition[] } | undefined;
  if (st?.configVersion !== version) return undefined;
  const cur = st.conditions?.find((x) => x.type === 'Programmed');
  if (!cur || cur.reason === OperatorReason.Pending || cur.reason === OperatorReason.NotAccepted)
    return undefined;
  return { type: cur.type, status: cur.status, reason: cur.reason, message: cur.message };
}

function readyCondition(ready: number, desired: number, found: boolean): ConditionVerdict {
  if (!found)
    return cond(
      'Ready',
      false,
      OperatorReason.WorkloadNotFound,
      'the data-plane workload does not exist yet',
    );
  const ok = desired > 0 && ready >= desired;
  const reason = ok ? OperatorReason.ReplicasReady : OperatorReason.ReplicasNotReady;
  return cond('Ready', ok, reason, `${ready}/${desired} replicas ready`);
}

export function replicasOf(workload: KubeObject | undefined): {
  ready: number;
  desired: number;
  found: boolean;
} {
  if (!workload) return { ready: 0, desired: 0, found: false };
  const st = (workload.status ?? {}) as Record<string, number | undefined>;
  if (workload.kind === 'DaemonSet')
    return { ready: st.numberReady ?? 0, desired: st.desiredNumberScheduled ?? 0, found: true };
  const spec = (workload.spec ?? {}) as { replicas?: number };
  return { ready: st.readyReplicas ?? 0, desired: spec.replicas ?? 1, found: true };
}

type Address = { type: 'IPAddress' | 'Hostname'; value: string };

export function addressesOf(service: KubeObject | undefined): Address[] {
  if (!service) return [];
  const ingress =
    (service.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)
      ?.loadBalancer?.ingress ?? [];
  const lb: Address[] = [];
  for (const i of ingress) {
    if (i.ip) lb.push({ type: 'IPAddress', value: i.ip });
    else if (i.hostname) lb.push({ type: 'Hostname', value: i.hostname });
  }
  if (lb.length) return lb.slice(0, 16);
  const ip = (service.spec as { clusterIP?: string } | undefined)?.clusterIP;
  return ip && ip !== 'None' ? [{ type: 'IPAddress', value: ip }] : [];
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Equality that ignores key order (the API server returns stored JSON in its own order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return stable(a) === stable(b);
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
