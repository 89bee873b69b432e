// SnapshotStore: the one place a data-plane process takes a new PoolSnapshot in.
//
// Interface for whoever feeds snapshots (the startup file loader today, the config-stream client of
// a later issue, the cluster primary over IPC):
//
//   const result = store.apply(snapshot)   // synchronous; never throws for a bad snapshot
//   result.ok ? ACK(snapshot.version) : NACK(snapshot.version, result.error)
//   store.on('swap', (cfg: RuntimeConfig, previous: RuntimeConfig | null) => ...)
//   store.on('reject', (error: string, snapshot: unknown) => ...)
//
// `apply` validates the shape, compiles the route table (bad regex → refusal), builds endpoint states
// (reused by key), balancers and health checkers, and only then swaps ONE reference to the new
// RuntimeConfig. A refused snapshot changes nothing: the last good one keeps serving, the refusal
// is counted (bulkhead_snapshots_rejected_total) and logged. Requests and tunnels hold the
// RuntimeConfig they started with, so a swap never closes a connection or changes a request midway.
// Re-applying the version being served is a no-op that answers ok.

import { EventEmitter } from 'node:events';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { checkSnapshotShape } from '../ir/snapshot-validate.ts';
import { unsupportedFeature } from './capabilities.ts';
import {
  buildCluster,
  buildRouteContext,
  buildRouteTable,
  commitHealth,
  newClusterHealth,
  stopHealth,
  type ClusterHealth,
  type ClusterRuntime,
  type HealthPlan,
  type RouteContext,
  type RuntimeConfig,
} from './runtime-config.ts';
import type { DataplaneMetrics } from './metrics.ts';
import type { UpstreamRegistry } from './upstreams.ts';

export type ApplyResult = { ok: true } | { ok: false; error: string };

export interface SnapshotStoreOptions {
  metrics: DataplaneMetrics;
  upstreams?: UpstreamRegistry;
  /** `false` in a cluster primary, which validates and distributes but does not proxy */
  healthChecks?: boolean;
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

export class SnapshotStore extends EventEmitter {
  private cfg: RuntimeConfig | null = null;
  private readonly health = new Map<string, ClusterHealth>();
  private seed = 1;
  applied = 0;
  rejected = 0;

  constructor(private readonly opts: SnapshotStoreOptions) {
    super();
  }

  /** The config being served; throws before the first snapshot (use `peek()` to test). */
  current(): RuntimeConfig {
    if (this.cfg === null)
      throw Object.assign(new Error('no snapshot loaded yet'), { code: 'BH_ERR_NO_SNAPSHOT' });
    return this.cfg;
  }

  peek(): RuntimeConfig | null {
    return this.cfg;
  }

  apply(snapshot: PoolSnapshot): ApplyResult {
    const prev = this.cfg;
    if (
      prev !== null &&
      snapshot !== null &&
      typeof snapshot === 'object' &&
      snapshot.version === prev.version
    )
      return { ok: true };
    let built: { cfg: RuntimeConfig; plans: HealthPlan[] };
    try {
      const problem = checkSnapshotShape(snapshot) ?? unsupportedFeature(snapshot);
      if (problem !== null) return this.refuse(problem, snapshot);
      built = this.build(snapshot, prev);
    } catch (err) {
      return this.refuse((err as Error).message ?? String(err), snapshot);
    }
    this.commit(built.cfg, built.plans, prev);
    return { ok: true };
  }

  private build(
    snapshot: PoolSnapshot,
    prev: RuntimeConfig | null,
  ): { cfg: RuntimeConfig; plans: HealthPlan[] } {
    const pool = `${snapshot.pool.namespace}/${snapshot.pool.name}`;
    // a data plane serves one pool for life: another pool's snapshot is a misdelivery, never a swap
    if (prev !== null && prev.pool !== pool)
      throw new Error(`pool: snapshot is for ${pool}, this data plane serves ${prev.pool}`);
    if (prev === null) this.opts.metrics.setPool(pool);
    const table = buildRouteTable(snapshot);
    const clusters = new Map<string, ClusterRuntime>();
    const plans: HealthPlan[] = [];
    for (const c of snapshot.clusters) {
      const holder = this.health.get(c.name) ?? newClusterHealth();
      const { runtime, plan } = buildCluster(c, prev?.clusters.get(c.name), holder, this.seed++);
      clusters.set(c.name, runtime);
      plans.push(plan);
    }
    const routes = new Map<string, RouteContext>();
    for (const r of snapshot.routes) routes.set(r.id, buildRouteContext(r, snapshot, this.opts.metrics));
    return { cfg: { snapshot, version: snapshot.version, pool, table, routes, clusters }, plans };
  }

  private commit(cfg: RuntimeConfig, plans: HealthPlan[], prev: RuntimeConfig | null): void {
    const ups = this.opts.upstreams;
    if (ups !== undefined) ups.configure(cfg.snapshot.upstream);
    this.cfg = cfg; // the swap: every new request from here on sees the new config
    const enabled = this.opts.healthChecks !== false;
    plans.forEach((plan, i) => {
      if (!enabled) (plan as { active: unknown }).active = null;
      commitHealth(plan);
      this.health.set(cfg.snapshot.clusters[i]!.name, plan.holder);
    });
    for (const [name, h] of this.health) {
      if (!cfg.clusters.has(name)) {
        stopHealth(h);
        this.health.delete(name);
      }
    }
    if (ups !== undefined) ups.retain(allEndpoints(cfg));
    this.applied++;
    const m = this.opts.metrics;
    m.snapshotsApplied.labels(cfg.pool).inc();
    m.setVersion(cfg.version);
    m.setProductLine(cfg.snapshot.pool.productLine);
    this.opts.log?.info(
      { version: cfg.version, routes: cfg.routes.size, clusters: cfg.clusters.size },
      'snapshot applied',
    );
    this.emit('swap', cfg, prev);
  }

  private refuse(error: string, snapshot: unknown): ApplyResult {
    this.rejected++;
    const pool = this.cfg?.pool ?? this.opts.metrics.pool;
    this.opts.metrics.snapshotsRejected.labels(pool).inc();
    const version =
      typeof snapshot === 'object' && snapshot !== null
        ? (snapshot as { version?: unknown }).version
        : undefined;
    this.opts.log?.warn({ version, error, serving: this.cfg?.version ?? null }, 'snapshot refused');
    this.emit('reject', error, snapshot);
    return { ok: false, error };
  }

  /** Stop every health checker (process shutdown). */
  close(): void {
    for (const h of this.health.values()) stopHealth(h);
    this.health.clear();
  }
}

function* allEndpoints(cfg: RuntimeConfig): Iterable<{ address: string; port: number }> {
  for (const c of cfg.clusters.values()) yield* c.list;
}
