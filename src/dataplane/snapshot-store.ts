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
import { randomInt } from 'node:crypto';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { checkSnapshotShape } from '../ir/snapshot-validate.ts';
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
import { noSecrets, type SecretSource } from './secrets.ts';
import { UpstreamTls } from './upstream-tls.ts';
import type { PolicyEnv } from './policy/index.ts';

export type ApplyResult = { ok: true } | { ok: false; error: string };

export interface SnapshotStoreOptions {
  metrics: DataplaneMetrics;
  upstreams?: UpstreamRegistry;
  /** `false` in a cluster primary, which validates and distributes but does not proxy */
  healthChecks?: boolean;
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** Secrets mounted as files, for policies (Redis URLs, JWKS, ...) */
  secrets?: SecretSource;
  /** worker processes of this replica (policies divide per-replica budgets by it); default 1 */
  workers?: number;
  /** first balancer seed (tests, for reproducible picks); default random per process */
  seed?: number;
}

const NO_LOG = { info() {}, warn() {} };

/** Policy state kept across snapshots by key (see PolicyEnv.keep). */
class KeptState {
  private readonly live = new Map<string, object>();
  private building: Map<string, object> | null = null;

  begin(): void {
    this.building = new Map();
  }

  keep<T extends object>(key: string, make: () => T): T {
    const b = this.building!;
    const have = b.get(key) ?? this.live.get(key) ?? make();
    b.set(key, have);
    return have as T;
  }

  /** the snapshot was swapped in: what it did not ask for is closed */
  commit(): void {
    const b = this.building!;
    for (const [k, v] of this.live) if (!b.has(k)) closeQuietly(v);
    this.live.clear();
    for (const [k, v] of b) this.live.set(k, v);
    this.building = null;
  }

  /** the snapshot was refused: objects made for it alone are closed */
  abort(): void {
    const b = this.building;
    if (b !== null) for (const [k, v] of b) if (this.live.get(k) !== v) closeQuietly(v);
    this.building = null;
  }

  closeAll(): void {
    for (const v of this.live.values()) closeQuietly(v);
    this.live.clear();
  }
}

function closeQuietly(v: object): void {
  const c = (v as { close?: () => unknown }).close;
  if (typeof c !== 'function') return;
  try {
    const r = c.call(v);
    if (r instanceof Promise) r.catch(() => {});
  } catch {
    // closing old policy state must never fail a swap
  }
}

export class SnapshotStore extends EventEmitter {
  private cfg: RuntimeConfig | null = null;
  private readonly health = new Map<string, ClusterHealth>();
  /** balancer seeds: random per process so replicas and workers do not make the same "random" picks */
  private seed: number;
  private readonly kept = new KeptState();
  applied = 0;
  rejected = 0;

  constructor(private readonly opts: SnapshotStoreOptions) {
    super();
    this.seed = opts.seed ?? randomInt(0x7fffffff);
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
      const problem = checkSnapshotShape(snapshot);
      if (problem !== null) return this.refuse(problem, snapshot);
      this.kept.begin();
      built = this.build(snapshot, prev);
    } catch (err) {
      this.kept.abort();
      return this.refuse((err as Error).message ?? String(err), snapshot);
    }
    this.kept.commit();
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
      if (c.tls !== null) {
        runtime.tls = new UpstreamTls(c.tls, this.opts.secrets ?? noSecrets);
        if (plan.active !== null) plan.active.tls = runtime.tls;
      }
      clusters.set(c.name, runtime);
      plans.push(plan);
    }
    const env: PolicyEnv = {
      snapshot,
      metrics: this.opts.metrics,
      secrets: this.opts.secrets ?? noSecrets,
      workers: this.opts.workers ?? 1,
      keep: (key, make) => this.kept.keep(key, make),
      log: this.opts.log ?? NO_LOG,
    };
    const routes = new Map<string, RouteContext>();
    for (const r of snapshot.routes) routes.set(r.id, buildRouteContext(r, snapshot, this.opts.metrics, env));
    const mergeSlashes = snapshot.listener.mergeSlashes === true;
    return {
      cfg: { snapshot, version: snapshot.version, pool, table, routes, clusters, mergeSlashes },
      plans,
    };
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
    this.kept.closeAll();
  }
}

function* allEndpoints(cfg: RuntimeConfig): Iterable<{ address: string; port: number }> {
  for (const c of cfg.clusters.values()) yield* c.list;
}
