// RuntimeConfig: everything the request path needs, computed once per snapshot so that serving a
// request is reference reads and null tests. Built by SnapshotStore (which owns the pieces that live
// across snapshots: endpoint states, health checkers, upstream pools) and swapped as one reference.

import type { UpstreamTls } from './upstream-tls.ts';
import type { ClusterIR, PoolSnapshot, RouteIR } from '../ir/snapshot.ts';
import { RouteTable } from './router/route-table.ts';
import { createBalancer, createEndpointStates, type Balancer, type EndpointState } from './balancer/index.ts';
import { ActiveHealthChecker, PassiveOutlierDetector } from './health/index.ts';
import { directResponseError, type ProxyError } from './errors.ts';
import { retryPolicy, type RetryPolicy } from './retry.ts';
import { RouteMetrics, type DataplaneMetrics } from './metrics.ts';
import { buildPolicyChain, responseHooks, type PolicyEnv, type RoutePolicy } from './policy/index.ts';
import './policy/builtin.ts'; // the built-in policy kinds register themselves

export interface ClusterRuntime {
  readonly name: string;
  readonly ir: ClusterIR;
  readonly h2: boolean;
  /** ConsistentHash clusters compute a hash key per request; others skip that work */
  readonly hashed: boolean;
  /** TLS to the endpoints (set by the snapshot store from Secret files); absent = plaintext */
  tls?: UpstreamTls;
  readonly endpoints: Map<string, EndpointState>;
  readonly list: EndpointState[];
  readonly balancer: Balancer;
  readonly outlier: PassiveOutlierDetector | null;
}

export interface RouteContext {
  readonly id: string;
  readonly ir: RouteIR;
  readonly direct: ProxyError | null;
  readonly connectMs: number;
  readonly readMs: number;
  readonly sendMs: number;
  /** 0 = no overall limit */
  readonly requestMs: number;
  readonly retry: RetryPolicy | null;
  readonly wsIdleMs: number;
  readonly wsMaxMs: number;
  readonly metrics: RouteMetrics;
  /** the route's policy chain (CORS, auth, rate limits), null when it has none */
  readonly policies: RoutePolicy[] | null;
  /** the chain's policies that look at the response head, null when none does */
  readonly responseHooks: RoutePolicy[] | null;
}

export interface RuntimeConfig {
  readonly snapshot: PoolSnapshot;
  readonly version: string;
  readonly pool: string;
  readonly table: RouteTable;
  readonly routes: Map<string, RouteContext>;
  readonly clusters: Map<string, ClusterRuntime>;
  /** path normalisation merges `//` runs (listener option) */
  readonly mergeSlashes: boolean;
}

/** Health machinery of one cluster name, kept across snapshots while its settings stay the same. */
export interface ClusterHealth {
  /** the endpoint list of the snapshot being served; checkers read it through `getter` */
  list: EndpointState[];
  readonly getter: () => EndpointState[];
  activeKey: string;
  active: ActiveHealthChecker | null;
  passiveKey: string;
  passive: PassiveOutlierDetector | null;
}

/** What a new snapshot changes in a ClusterHealth; applied by `commitHealth` only after the swap. */
export interface HealthPlan {
  readonly holder: ClusterHealth;
  readonly list: EndpointState[];
  readonly activeKey: string;
  readonly active: ActiveHealthChecker | null;
  readonly passiveKey: string;
  readonly passive: PassiveOutlierDetector | null;
}

export function newClusterHealth(): ClusterHealth {
  const holder: ClusterHealth = {
    list: [],
    getter: () => holder.list,
    activeKey: '',
    active: null,
    passiveKey: '',
    passive: null,
  };
  return holder;
}

export function buildRouteContext(
  ir: RouteIR,
  snapshot: PoolSnapshot,
  metrics: DataplaneMetrics,
  env: PolicyEnv | null = null,
): RouteContext {
  const t = ir.timeouts;
  const policies = env === null ? null : buildPolicyChain(ir, env);
  const retry = retryPolicy(ir.retries);
  const readMs = retry !== null && retry.perTryMs > 0 ? retry.perTryMs : t.readMs;
  return {
    id: ir.id,
    ir,
    direct:
      ir.directResponse === null
        ? null
        : directResponseError(ir.directResponse.status, ir.directResponse.reason),
    connectMs: t.connectMs,
    readMs,
    sendMs: t.sendMs,
    requestMs: t.requestMs,
    retry,
    wsIdleMs: ir.websocket.idleTimeoutMs > 0 ? ir.websocket.idleTimeoutMs : snapshot.websocket.idleTimeoutMs,
    wsMaxMs:
      ir.websocket.maxConnectionDurationMs > 0
        ? ir.websocket.maxConnectionDurationMs
        : snapshot.websocket.maxConnectionDurationMs,
    metrics: new RouteMetrics(metrics, ir.id),
    policies,
    responseHooks: responseHooks(policies),
  };
}

/**
 * Cluster runtime for the new snapshot. Endpoint states carry over by key (in-flight counts, EWMA,
 * ejections survive a swap); health checkers carry over when their settings did not change. New
 * checkers are created here but started by `commitHealth`, after the swap.
 */
export function buildCluster(
  ir: ClusterIR,
  previous: ClusterRuntime | undefined,
  holder: ClusterHealth,
  seed: number,
): { runtime: ClusterRuntime; plan: HealthPlan } {
  const endpoints = createEndpointStates(ir, previous?.endpoints);
  const list = [...endpoints.values()];
  const activeKey = ir.healthCheck.active === null ? '' : JSON.stringify(ir.healthCheck.active);
  const passiveKey = ir.healthCheck.passive === null ? '' : JSON.stringify(ir.healthCheck.passive);
  const active =
    ir.healthCheck.active === null
      ? null
      : holder.active !== null && holder.activeKey === activeKey
        ? holder.active
        : new ActiveHealthChecker(ir, holder.getter);
  const passive =
    ir.healthCheck.passive === null
      ? null
      : holder.passive !== null && holder.passiveKey === passiveKey
        ? holder.passive
        : new PassiveOutlierDetector(ir.healthCheck.passive, holder.getter);
  const runtime: ClusterRuntime = {
    name: ir.name,
    ir,
    h2: ir.protocol === 'H2C',
    hashed: ir.loadBalancer.algorithm === 'ConsistentHash',
    endpoints,
    list,
    balancer: createBalancer(ir, list, seed),
    outlier: passive,
  };
  return { runtime, plan: { holder, list, activeKey, active, passiveKey, passive } };
}

/** Make a plan current: replaced active checkers stop, new ones start. */
export function commitHealth(plan: HealthPlan): void {
  const h = plan.holder;
  h.list = plan.list;
  if (h.active !== plan.active) {
    // no active check any more: nothing would ever mark an endpoint healthy again, so reset them;
    // a replacement checker takes over from the current health instead
    h.active?.stop(plan.active === null ? { resetHealth: true } : undefined);
    plan.active?.start();
  }
  h.active = plan.active;
  h.activeKey = plan.activeKey;
  h.passive = plan.passive;
  h.passiveKey = plan.passiveKey;
}

/** A cluster left the snapshot (or the process stops): its checker stops. */
export function stopHealth(h: ClusterHealth): void {
  h.active?.stop();
  h.active = null;
}

export function buildRouteTable(snapshot: PoolSnapshot): RouteTable {
  return RouteTable.build(snapshot);
}
