// compile(resources) → { statuses, snapshots, infra }: the pure translator in the middle of
// Bulkhead. No I/O, no clock, no randomness; the same bag (in any order) gives byte-identical output.
// Processors run in a fixed order: pools → routes (attach, conflicts, backends) → policies → assemble.

import type { IngressPoolSpec } from '../api/ingresspool.ts';
import { DEFAULT_DATAPLANE_IMAGE, type PoolInfra } from '../ir/infra.ts';
import { SNAPSHOT_API, type ClusterIR, type PoolSnapshot, type RouteIR } from '../ir/snapshot.ts';
import { canonicalize, hashJson } from './canonical.ts';
import { ServiceIndex } from './clusters.ts';
import {
  cond,
  ConditionType,
  Reason,
  routeConditions,
  type RouteVerdict,
  type StatusVerdicts,
} from './conditions.ts';
import { durationMs } from './duration.ts';
import { namespaceLabels, processPools, type PoolContext } from './pools.ts';
import { comparePrecedence, type RankedRoute } from './precedence.ts';
import { processPolicies } from './ratelimits.ts';
import { olderFirst, type ResourceBag } from './resources.ts';
import { attachRoute, claimsOf, compileRouteRules, type AttachedRoute, type RouteOutcome } from './routes.ts';

export interface CompileResult {
  statuses: StatusVerdicts;
  /** keyed by `<namespace>/<name>` of the pool, accepted pools only */
  snapshots: Record<string, PoolSnapshot>;
  infra: Record<string, PoolInfra>;
}

export function compile(bag: ResourceBag): CompileResult {
  const pools = processPools(bag.ingressPools);
  const nsLabels = namespaceLabels(bag.namespaces);
  const services = new ServiceIndex(bag.services, bag.endpointSlices);

  const outcomes = [...bag.routeSplits].sort(olderFirst).map((r) => attachRoute(r, pools, nsLabels));
  const byPool = new Map<string, RouteOutcome[]>();
  for (const o of outcomes) {
    if (!o.attached) continue;
    const list = byPool.get(o.attached.pool.key) ?? [];
    list.push(o);
    byPool.set(o.attached.pool.key, list);
  }

  const accepted = new Map<string, AttachedRoute>();
  const perPool = new Map<
    string,
    { ranked: (RankedRoute & { ir: RouteIR })[]; clusters: Map<string, ClusterIR> }
  >();
  for (const [poolKey, list] of byPool) {
    rejectConflicts(list);
    const ranked: (RankedRoute & { ir: RouteIR })[] = [];
    const clusters = new Map<string, ClusterIR>();
    list.forEach((o, order) => {
      const a = o.attached;
      if (!a) return;
      const resolved = compileRouteRules(a, order, services, clusters, ranked);
      const gen = a.route.metadata.generation;
      o.conditions = [
        a.droppedRules.length === 0
          ? cond(ConditionType.Accepted, true, Reason.Accepted, `attached to IngressPool ${poolKey}`, gen)
          : cond(
              ConditionType.Accepted,
              true,
              Reason.PartiallyInvalid,
              `invalid rules dropped, the others serve: ${a.droppedRules.join('; ')}`,
              gen,
            ),
        resolved,
      ];
      accepted.set(a.key, a);
    });
    perPool.set(poolKey, { ranked, clusters });
  }

  const { verdicts: policyVerdicts, attachments } = processPolicies(bag.rateLimitPolicies, accepted, pools);

  const snapshots: Record<string, PoolSnapshot> = {};
  const infra: Record<string, PoolInfra> = {};
  const statuses: StatusVerdicts = { ingressPools: {}, routeSplits: {}, rateLimitPolicies: {} };

  for (const key of [...pools.keys()].sort()) {
    const ctx = pools.get(key)!;
    const gen = ctx.pool.metadata.generation;
    if (!ctx.spec) {
      statuses.ingressPools[key] = { observedGeneration: gen, conditions: [ctx.accepted], attachedRoutes: 0 };
      continue;
    }
    const { ranked, clusters } = perPool.get(key) ?? { ranked: [], clusters: new Map() };
    ranked.sort(comparePrecedence);
    const rateLimits = attachments.filter((a) => a.poolKey === key);
    const routes = ranked.map(({ ir }) => {
      const routeKey = `${ir.route.namespace}/${ir.route.name}`;
      const ids = rateLimits
        .filter(
          (a) => a.routeKey === null || (a.routeKey === routeKey && (a.rule === null || a.rule === ir.rule)),
        )
        .sort((x, y) => (x.routeKey === null ? 0 : 1) - (y.routeKey === null ? 0 : 1))
        .flatMap((a) => a.limits.map((l) => l.id));
      return ids.length ? { ...ir, rateLimits: ids } : ir;
    });
    const snapshot = assembleSnapshot(
      ctx,
      routes,
      clusters,
      rateLimits.flatMap((a) => a.limits),
    );
    snapshots[key] = snapshot;
    infra[key] = buildInfra(ctx, snapshot);
    statuses.ingressPools[key] = {
      observedGeneration: gen,
      conditions: [ctx.accepted],
      attachedRoutes: (byPool.get(key) ?? []).filter((o) => o.attached).length,
      configVersion: snapshot.version,
    };
  }

  const routeStatus = new Map<string, RouteVerdict>();
  for (const o of outcomes) {
    const parents = [{ poolRef: o.poolRef, conditions: o.conditions }];
    routeStatus.set(o.key, {
      observedGeneration: o.generation,
      conditions: routeConditions(parents, o.generation),
      parents,
    });
  }
  for (const k of [...routeStatus.keys()].sort()) statuses.routeSplits[k] = routeStatus.get(k)!;
  for (const k of [...policyVerdicts.keys()].sort()) statuses.rateLimitPolicies[k] = policyVerdicts.get(k)!;

  return { statuses, snapshots, infra };
}

/** Cross-namespace host+path claims: the older route keeps them, the newer one is rejected whole. */
function rejectConflicts(list: RouteOutcome[]): void {
  const owner = new Map<string, AttachedRoute>();
  for (const o of list) {
    const a = o.attached!;
    const clash = claimsOf(a).find((c) => owner.has(c) && owner.get(c)!.namespace !== a.namespace);
    if (clash) {
      const winner = owner.get(clash)!;
      const [host, ...path] = clash.split(' ');
      o.conditions = [
        cond(
          ConditionType.Accepted,
          false,
          Reason.Conflict,
          `host ${host === '*' ? '(any)' : host} path ${path.join(' ')} is already served by older RouteSplit ${winner.key}`,
          a.route.metadata.generation,
        ),
      ];
      o.attached = null;
      continue;
    }
    for (const c of claimsOf(a)) if (!owner.has(c)) owner.set(c, a);
  }
}

function assembleSnapshot(
  ctx: PoolContext,
  routes: RouteIR[],
  clusters: Map<string, ClusterIR>,
  rateLimits: PoolSnapshot['rateLimits'],
): PoolSnapshot {
  const s = ctx.spec!;
  const ds = s.connections!.downstream!;
  const us = s.connections!.upstream!;
  const ws = s.websocket!;
  const tls = s.listener!.tls;
  // Keys in sorted order throughout the IR: JSON.stringify is then the canonical JSON, hashed
  // natively (canonicalJson over 1,000 pools cost more than the rest of the compile).
  const body: Omit<PoolSnapshot, 'version'> = {
    accessLog: { enabled: s.accessLog!.enabled, sampleRate: s.accessLog!.sampleRate },
    apiVersion: SNAPSHOT_API,
    clusters: [...clusters.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    listener: {
      adminPort: s.listener!.adminPort,
      backlog: s.listener!.backlog,
      keepAliveTimeoutMs: durationMs(ds.keepAliveTimeout),
      maxHeaderBytes: s.listener!.maxHeaderBytes,
      maxRequestsPerConnection: ds.maxRequestsPerConnection,
      mergeSlashes: s.listener!.mergeSlashes ?? false,
      port: s.listener!.port,
      requestHeaderTimeoutMs: durationMs(ds.requestHeaderTimeout),
      tls: tls
        ? {
            certificates: tls.certificates.map((c) => ({
              secretRef: { name: c.secretRef.name, namespace: ctx.namespace },
            })),
            clientAuth: tls.clientAuth
              ? {
                  caSecretRef: { name: tls.clientAuth.caSecretRef.name, namespace: ctx.namespace },
                  mode: tls.clientAuth.mode,
                }
              : null,
            minVersion: tls.minVersion,
            port: tls.port,
            redirectHTTP: tls.redirectHTTP,
          }
        : null,
    },
    overload: {
      maxConcurrentRequests: s.overload!.maxConcurrentRequests,
      maxEventLoopDelayMs: durationMs(s.overload!.maxEventLoopDelay),
    },
    pool: { name: ctx.pool.metadata.name, namespace: ctx.namespace, productLine: s.productLine },
    rateLimits: [...rateLimits].sort((a, b) => (a.id < b.id ? -1 : 1)),
    routes,
    upstream: {
      idleTimeoutMs: durationMs(us.idleTimeout),
      maxIdlePerEndpoint: us.maxIdlePerEndpoint,
      maxRequestsPerConnection: us.maxRequestsPerConnection,
    },
    websocket: {
      drainPeriodMs: durationMs(ws.drainPeriod),
      enabled: ws.enabled,
      http2: ws.http2,
      idleTimeoutMs: durationMs(ws.idleTimeout),
      maxConnectionDurationMs: durationMs(ws.maxConnectionDuration),
      maxConnections: ws.maxConnections,
    },
    workers: workersOf(s),
  };
  // the body's own JSON is canonical (sorted keys); the version goes last, outside what it hashes
  return { ...body, version: hashJson(JSON.stringify(body)) };
}

function workersOf(s: IngressPoolSpec): 'auto' | number {
  const w = s.deployment?.workers;
  return typeof w === 'number' ? w : 'auto';
}

function buildInfra(ctx: PoolContext, snapshot: PoolSnapshot): PoolInfra {
  const s = ctx.spec!;
  const d = s.deployment!;
  const quantity = (v: unknown) => (v === undefined ? undefined : String(v));
  const list = (r: { cpu?: unknown; memory?: unknown } | undefined) => {
    const out: { cpu?: string; memory?: string } = {};
    if (r?.cpu !== undefined) out.cpu = quantity(r.cpu);
    if (r?.memory !== undefined) out.memory = quantity(r.memory);
    return out;
  };
  return {
    pool: {
      namespace: ctx.namespace,
      name: ctx.pool.metadata.name,
      uid: ctx.pool.metadata.uid ?? '',
      productLine: s.productLine,
    },
    replicas: s.replicas ?? 2,
    autoscaling: s.autoscaling
      ? {
          minReplicas: s.autoscaling.minReplicas,
          maxReplicas: s.autoscaling.maxReplicas,
          targetCPUUtilizationPercentage: s.autoscaling.targetCPUUtilizationPercentage,
          scaleDownStabilizationSeconds: Math.round(durationMs(s.autoscaling.scaleDownStabilization) / 1000),
        }
      : null,
    deployment: {
      mode: d.mode,
      hostNetwork: d.hostNetwork,
      image: d.image || DEFAULT_DATAPLANE_IMAGE,
      resources: { requests: list(d.resources?.requests), limits: list(d.resources?.limits) },
      nodeSelector: canonicalize(d.nodeSelector ?? {}),
      tolerations: canonicalize(d.tolerations ?? []) as PoolInfra['deployment']['tolerations'],
      workers: workersOf(s),
    },
    service: {
      type: s.service!.type,
      annotations: canonicalize(s.service!.annotations ?? {}),
      externalTrafficPolicy: s.service!.externalTrafficPolicy,
    },
    listener: {
      port: s.listener!.port,
      adminPort: s.listener!.adminPort,
      tlsPort: s.listener!.tls?.port ?? null,
    },
    drainSeconds: Math.ceil(durationMs(s.websocket!.drainPeriod) / 1000),
    kernel: {
      enabled: s.kernel!.enabled,
      somaxconn: s.kernel!.somaxconn,
      ipLocalPortRange: s.kernel!.ipLocalPortRange,
      tcpTwReuse: s.kernel!.tcpTwReuse,
    },
    secrets: referencedSecrets(snapshot),
    bootstrapSnapshot: JSON.stringify(snapshot),
    snapshotVersion: snapshot.version,
  };
}

/** The Secrets a snapshot names, each once, sorted (namespace, name). */
export function referencedSecrets(s: PoolSnapshot): { namespace: string; name: string }[] {
  const refs = new Map<string, { namespace: string; name: string }>();
  const add = (r: { namespace: string; name: string } | null | undefined) => {
    if (r) refs.set(`${r.namespace}/${r.name}`, { namespace: r.namespace, name: r.name });
  };
  const tls = s.listener.tls;
  if (tls) {
    for (const c of tls.certificates) add(c.secretRef);
    add(tls.clientAuth?.caSecretRef);
  }
  for (const r of s.routes) add(r.auth?.jwt?.jwks.secretRef);
  for (const c of s.clusters) {
    add(c.tls?.caSecretRef);
    add(c.tls?.clientCertificateRef);
  }
  for (const l of s.rateLimits) add(l.global?.redisSecretRef);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...refs.values()].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
}

export type { ResourceBag } from './resources.ts';
export { bagFromDocuments } from './resources.ts';
