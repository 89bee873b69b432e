// One reconcile pass over the due pools, from one compile result: synthesize each pool with its
// real uid → server-side apply in the synthesizer's order → prune what the pool no longer wants →
// status. Nothing is sent that would not change anything: every applied object carries a hash of
// its desired form, and a cached live object with the same hash (and no foreign edit since our
// last apply) is skipped. Errors stay per object and per pool: the others carry on, and the pool
// is retried with back-off by the caller. Every pool pass logs one line (pool, config version,
// objects applied / unchanged / pruned, took, result); prunes and errors are also Events on the pool.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { CompileResult } from '../compiler/index.ts';
import { synthesize, type KubeObject as SynthObject } from '../synth/index.ts';
import { LABEL_MANAGED_BY, LABEL_POOL } from '../synth/identity.ts';
import { resourceFor } from './api-resources.ts';
import { RESOURCES } from './api-resources.ts';
import type { EventRecorder } from './events.ts';
import type { ClusterCache } from './informers.ts';
import { isNotFound, type KubeObject, type KubeRest } from './kube-rest.ts';
import type { OperatorMetrics } from './metrics.ts';
import { LeadershipLostError, type StatusWriter } from './status-writer.ts';
import { mirrorSecrets } from './secret-mirror.ts';

export const FIELD_MANAGER = 'bulkhead';
export const ANNOTATION_APPLIED_HASH = 'bulkhead.dev/applied-hash';
/** a queue key naming no pool: a pass that only refreshes route and policy statuses */
export const STATUS_ONLY_KEY = '/';

export interface ReconcileDeps {
  rest: KubeRest;
  cache: ClusterCache;
  writer: StatusWriter;
  metrics: OperatorMetrics;
  canWrite(): boolean;
  controlPlaneAddress?: string;
  /** the operator's own image, for pools whose spec.deployment.image is empty */
  image?: string;
  /** what we last applied per object: its hash and the generation (or resourceVersion) we left it at */
  applied: Map<string, { hash: string; marker: string }>;
  onError?(scope: string, key: string, err: unknown): void;
  /** pools reconciled at once (statuses: twice as many); requests, not CPU, are the bottleneck */
  concurrency?: number;
  log?: Logger;
  events?: EventRecorder;
}

/** what one pool pass did, for its log line */
export interface PoolPassSummary {
  version: string | null;
  applied: number;
  unchanged: number;
  pruned: number;
}

/** Reconciles `keys`; returns the keys that failed (to be retried) with their errors. */
export async function reconcilePass(
  keys: string[],
  result: CompileResult,
  deps: ReconcileDeps,
): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const limit = deps.concurrency ?? 4;
  await inParallel(
    keys.filter((k) => k !== STATUS_ONLY_KEY),
    limit,
    async (key) => {
      const started = performance.now();
      const summary: PoolPassSummary = { version: null, applied: 0, unchanged: 0, pruned: 0 };
      try {
        await reconcilePool(key, result, deps, summary);
        deps.log?.info({ pool: key, ...summary, tookMs: took(started), result: 'ok' }, 'pool reconciled');
      } catch (err) {
        if (err instanceof LeadershipLostError) throw err;
        failed.set(key, err);
        deps.log?.warn(
          { pool: key, ...summary, tookMs: took(started), result: 'error', err: String(err) },
          'pool reconciled',
        );
        poolEvent(deps, key, 'Warning', 'ReconcileError', 'Reconcile', String(err));
      }
    },
  );
  // Route and policy statuses are compared with the cache for every object (no request when equal),
  // so an object whose pool does not exist still gets its PoolNotFound verdict. Any later pass
  // writes them all again, so a failed one is retried under the status-only key.
  await inParallel(Object.entries(result.statuses.routeSplits), limit * 2, ([key, verdict]) =>
    guarded(deps, key, failed, () => deps.writer.writeRoute(key, verdict)),
  );
  await inParallel(Object.entries(result.statuses.rateLimitPolicies), limit * 2, ([key, verdict]) =>
    guarded(deps, key, failed, () => deps.writer.writePolicy(key, verdict)),
  );
  return failed;
}

function took(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function poolEvent(
  deps: ReconcileDeps,
  key: string,
  type: 'Normal' | 'Warning',
  reason: string,
  action: string,
  note: string,
): void {
  if (!deps.events) return;
  const slash = key.indexOf('/');
  const pool = deps.cache.get('IngressPool', key.slice(0, slash), key.slice(slash + 1));
  if (pool && !pool.metadata.deletionTimestamp)
    deps.events.record(RESOURCES.IngressPool, pool, type, reason, action, note);
}

async function guarded(
  deps: ReconcileDeps,
  key: string,
  failed: Map<string, unknown>,
  fn: () => Promise<unknown>,
): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof LeadershipLostError) throw err;
    deps.metrics.reconcileErrors.inc({ kind: 'status' });
    deps.onError?.('status', key, err);
    failed.set(STATUS_ONLY_KEY, err);
  }
}

export async function reconcilePool(
  key: string,
  result: CompileResult,
  deps: ReconcileDeps,
  summary: PoolPassSummary = { version: null, applied: 0, unchanged: 0, pruned: 0 },
): Promise<void> {
  const { cache, writer, metrics } = deps;
  const slash = key.indexOf('/');
  const namespace = key.slice(0, slash);
  const name = key.slice(slash + 1);
  const pool = cache.get('IngressPool', namespace, name);
  const owned = cache.ownedBy(namespace, name);

  if (!pool || pool.metadata.deletionTimestamp) {
    // The pool is gone: everything it owned goes too (no garbage collector may be running).
    const errors: unknown[] = [];
    for (const o of owned) {
      const ownedByPool = (o.metadata.ownerReferences ?? []).some(
        (r) => r.kind === 'IngressPool' && r.name === name,
      );
      if (!ownedByPool) continue;
      await prune(o, deps, summary).catch((err) => {
        if (err instanceof LeadershipLostError) throw err;
        errors.push(err);
      });
    }
    writer.forgetPool(key);
    metrics.setSnapshotVersion(key, undefined);
    throwAll(key, errors);
    return;
  }

  const verdict = result.statuses.ingressPools[key];
  const infra = result.infra[key];
  const errors: unknown[] = [];
  if (infra) {
    // An invalid pool (no infra) keeps its running objects: a spec error must not take a pool down.
    let desired: SynthObject[] = [];
    try {
      const ownImage = deps.image && !(pool.spec as { deployment?: { image?: string } })?.deployment?.image;
      desired = synthesize(
        {
          ...infra,
          pool: { ...infra.pool, uid: pool.metadata.uid ?? '' },
          ...(ownImage ? { deployment: { ...infra.deployment, image: deps.image! } } : {}),
        },
        { controlPlaneAddress: deps.controlPlaneAddress },
      );
    } catch (err) {
      metrics.reconcileErrors.inc({ kind: 'synth' });
      errors.push(err);
    }
    summary.version = infra.snapshotVersion;
    for (const obj of desired) {
      await applyOne(obj, deps, summary).catch((err) => {
        if (err instanceof LeadershipLostError) throw err;
        metrics.reconcileErrors.inc({ kind: 'apply' });
        deps.onError?.('apply', `${obj.kind}/${namespace}/${obj.metadata.name}`, err);
        errors.push(err);
      });
    }
    if (needsMirror(key, infra)) {
      // copies of route-namespace Secrets the pool's pods mount (secret-mirror.ts)
      const owned = { ...infra, pool: { ...infra.pool, uid: pool.metadata.uid ?? '' } };
      try {
        if (!deps.canWrite()) throw new LeadershipLostError(`not the leader: Secrets of ${key} left alone`);
        const missing = await mirrorSecrets(owned, deps.rest, FIELD_MANAGER);
        for (const m of missing) deps.onError?.('secret', m, new Error(`Secret ${m} not found`));
      } catch (err) {
        if (err instanceof LeadershipLostError) throw err;
        metrics.reconcileErrors.inc({ kind: 'apply' });
        errors.push(err);
      }
    }
    if (desired.length) {
      const wanted = new Set(desired.map((o) => `${o.kind}/${o.metadata.name}`));
      for (const o of owned) {
        if (wanted.has(`${o.kind}/${o.metadata.name}`)) continue;
        if (
          !(o.metadata.ownerReferences ?? []).some(
            (r) => r.kind === 'IngressPool' && r.uid === pool.metadata.uid,
          )
        )
          continue;
        await prune(o, deps, summary).catch((err) => {
          if (err instanceof LeadershipLostError) throw err;
          errors.push(err);
        });
      }
    }
    metrics.setSnapshotVersion(key, infra.snapshotVersion);
  }
  if (verdict) {
    const base = `bulkhead-${name}`;
    const workload = cache.get('Deployment', namespace, base) ?? cache.get('DaemonSet', namespace, base);
    await writer
      .writePool(key, verdict, { workload, service: cache.get('Service', namespace, base) })
      .catch((err) => {
        if (err instanceof LeadershipLostError) throw err;
        metrics.reconcileErrors.inc({ kind: 'status' });
        errors.push(err);
      });
  }
  throwAll(key, errors);
}

/** pools that had Secret copies in this process: they keep being checked so stale copies go */
const mirroring = new Set<string>();
function needsMirror(key: string, infra: { pool: { namespace: string }; secrets: { namespace: string }[] }) {
  const cross = infra.secrets.some((s) => s.namespace !== infra.pool.namespace);
  if (cross) mirroring.add(key);
  else if (!mirroring.delete(key)) return false;
  return true;
}

/** sha256 of the desired object; synthesized objects have sorted keys, so JSON.stringify is canonical */
export function desiredHash(obj: SynthObject): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 32);
}

const markerOf = (o: KubeObject) =>
  o.metadata.generation !== undefined ? `g${o.metadata.generation}` : `rv${o.metadata.resourceVersion}`;

async function applyOne(obj: SynthObject, deps: ReconcileDeps, summary: PoolPassSummary): Promise<void> {
  const ns = obj.metadata.namespace ?? '';
  const recKey = `${obj.kind}/${ns}/${obj.metadata.name}`;
  const hash = desiredHash(obj);
  const live = deps.cache.get(obj.kind as never, ns, obj.metadata.name);
  if (
    live &&
    !live.metadata.deletionTimestamp &&
    live.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash
  ) {
    const rec = deps.applied.get(recKey);
    // No record (e.g. after a restart): trust the hash and take the live object as the baseline.
    // A record with another marker means someone edited the object since our apply: repair it.
    if (!rec || rec.hash !== hash || rec.marker === markerOf(live)) {
      deps.applied.set(recKey, { hash, marker: markerOf(live) });
      deps.metrics.appliesSkipped.inc();
      summary.unchanged++;
      return;
    }
  }
  if (!deps.canWrite()) throw new LeadershipLostError(`not the leader: ${recKey} left alone`);
  const body = {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...(obj.metadata.annotations ?? {}), [ANNOTATION_APPLIED_HASH]: hash },
    },
  };
  const res = resourceFor(obj.kind);
  const out = await deps.rest.apply(res, body as KubeObject, FIELD_MANAGER, true);
  deps.applied.set(recKey, { hash, marker: markerOf(out) });
  deps.metrics.applies.inc({ kind: obj.kind });
  summary.applied++;
}

async function prune(o: KubeObject, deps: ReconcileDeps, summary: PoolPassSummary): Promise<void> {
  const l = o.metadata.labels ?? {};
  if (l[LABEL_MANAGED_BY] !== 'bulkhead' || !l[LABEL_POOL]) return;
  if (!deps.canWrite())
    throw new LeadershipLostError(`not the leader: ${o.kind} ${o.metadata.name} not pruned`);
  try {
    await deps.rest.delete(resourceFor(o.kind!), o.metadata.namespace, o.metadata.name, o.metadata.uid);
    deps.metrics.prunes.inc({ kind: o.kind! });
    summary.pruned++;
    poolEvent(
      deps,
      `${o.metadata.namespace}/${l[LABEL_POOL]}`,
      'Normal',
      'Pruned',
      'Prune',
      `deleted ${o.kind} ${o.metadata.name}: the pool no longer needs it`,
    );
  } catch (err) {
    if (isNotFound(err)) return;
    deps.metrics.reconcileErrors.inc({ kind: 'prune' });
    throw err;
  }
  deps.applied.delete(`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. The first error stops the hand-out of
 * further items and is rethrown once the running ones have settled.
 */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

function throwAll(key: string, errors: unknown[]): void {
  if (errors.length === 0) return;
  if (errors.length === 1) throw errors[0];
  throw new AggregateError(errors, `pool ${key}: ${errors.length} errors`);
}
