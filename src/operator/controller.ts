// The pool controller: cache events → affected pools → work queue → passes. A pass compiles once
// (reused while no compiler input changed) and reconciles the due pools; failed pools go back with
// their back-off. Passes run one at a time and only while `canWrite()` (leader, not stopping).

import type { Logger } from 'pino';
import { compile, type CompileResult } from '../compiler/index.ts';
import { LABEL_MANAGED_BY, LABEL_POOL } from '../synth/identity.ts';
import { affectedPools, type AffectedIndex } from './affected-pools.ts';
import { OWNED_KINDS } from './api-resources.ts';
import type { ClusterCache } from './informers.ts';
import type { KubeRest } from './kube-rest.ts';
import type { OperatorMetrics } from './metrics.ts';
import { reconcilePass, STATUS_ONLY_KEY } from './reconcile.ts';
import { LeadershipLostError, StatusWriter, type ProgrammedVerdict } from './status-writer.ts';
import { WorkQueue } from './work-queue.ts';
import { conditionEvent, EventRecorder } from './events.ts';

export interface PoolControllerOptions {
  rest: KubeRest;
  cache: ClusterCache;
  metrics: OperatorMetrics;
  logger: Logger;
  canWrite(): boolean;
  holdOffMs?: number;
  maxHoldOffMs?: number;
  concurrency?: number;
  controlPlaneAddress?: string;
  image?: string;
  /** Events on pools, routes and policies; default: a recorder on `rest` */
  events?: EventRecorder | null;
}

export class PoolController {
  readonly queue: WorkQueue;
  readonly writer: StatusWriter;
  last: CompileResult | undefined;
  private lastInputs = -1;
  private busy: Promise<void> | undefined;
  private readonly compiledListeners: ((r: CompileResult) => void)[] = [];
  /** what we last applied per object (see reconcile.ts: repair of foreign edits) */
  private readonly applied = new Map<string, { hash: string; marker: string }>();
  private readonly index: AffectedIndex;
  readonly events: EventRecorder | null;

  constructor(private readonly o: PoolControllerOptions) {
    const { cache, metrics } = o;
    const events = (this.events =
      o.events === undefined ? new EventRecorder(o.rest, { log: o.logger }) : o.events);
    this.writer = new StatusWriter(o.rest, {
      canWrite: o.canWrite,
      cached: (res, ns, name) => cache.get(res.kind as never, ns, name),
      onWrite: (kind) => metrics.statusWrites.inc({ kind }),
      onTransition: (res, obj, c, before) => {
        const object = `${obj.metadata.namespace}/${obj.metadata.name}`;
        const line = { kind: res.kind, object, condition: c.type, status: c.status, reason: c.reason };
        if (c.status === 'False' && c.reason !== 'Pending')
          o.logger.warn({ ...line, from: before?.status, message: c.message }, 'status transition');
        else o.logger.info({ ...line, from: before?.status }, 'status transition');
        const ev = conditionEvent(c.type, c.status, c.reason);
        if (ev && events) events.record(res, obj, ev.type, ev.reason, ev.action, c.message);
      },
    });
    this.queue = new WorkQueue({
      holdOffMs: o.holdOffMs,
      maxHoldOffMs: o.maxHoldOffMs,
      onReady: () => this.kick(),
    });
    this.index = {
      pools: () => cache.list('IngressPool'),
      routes: () => cache.list('RouteSplit'),
      route: (ns, name) => cache.get('RouteSplit', ns, name),
    };
    cache.onEvent((kind, type, obj, old) => {
      if (!o.canWrite()) return; // a new leader starts with a full resync anyway
      const keys =
        type === 'delete'
          ? affectedPools(kind, undefined, obj, this.index)
          : affectedPools(kind, obj, old, this.index);
      for (const k of keys) this.queue.add(k);
      metrics.queueDepth.set(this.queue.depth);
    });
  }

  onCompiled(listener: (r: CompileResult) => void): void {
    this.compiledListeners.push(listener);
  }

  setProgrammed(poolKey: string, verdict: ProgrammedVerdict): void {
    this.writer.setProgrammed(poolKey, verdict);
    if (this.o.canWrite()) this.queue.add(poolKey);
  }

  /** Every pool now, plus pools only their leftovers remember (deleted while no leader ran). */
  resyncAll(): void {
    const keys = new Set<string>();
    for (const p of this.o.cache.list('IngressPool')) keys.add(`${p.metadata.namespace}/${p.metadata.name}`);
    for (const kind of OWNED_KINDS) {
      for (const obj of this.o.cache.list(kind)) {
        const l = obj.metadata.labels ?? {};
        if (l[LABEL_MANAGED_BY] === 'bulkhead' && l[LABEL_POOL])
          keys.add(`${obj.metadata.namespace}/${l[LABEL_POOL]}`);
      }
    }
    for (const k of keys) this.queue.addNow(k);
    // route and policy statuses ride on any pass; make sure one runs even with no pool at all
    if (this.queue.depth === 0) this.queue.addNow(STATUS_ONLY_KEY);
    this.kick();
  }

  kick(): void {
    if (this.busy || !this.o.canWrite()) return;
    this.busy = this.drain().finally(() => {
      this.busy = undefined;
      this.o.metrics.queueDepth.set(this.queue.depth);
    });
  }

  get idle(): boolean {
    return !this.busy && this.queue.depth === 0;
  }

  async whenIdle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.idle) {
      if (Date.now() > deadline) {
        throw new Error(
          `BH_ERR_OPERATOR_BUSY: queue not drained after ${timeoutMs} ms (depth ${this.queue.depth})`,
        );
      }
      if (this.busy) await this.busy;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  async shutdown(): Promise<void> {
    this.queue.shutdown();
    await this.busy;
    await this.events?.flush();
  }

  private async drain(): Promise<void> {
    const { cache, metrics, logger, canWrite } = this.o;
    for (let keys = this.queue.takeDue(); keys.length && canWrite(); keys = this.queue.takeDue()) {
      metrics.queueDepth.set(this.queue.depth);
      const end = metrics.reconcileDuration.startTimer();
      try {
        if (!this.last || cache.inputsVersion !== this.lastInputs) {
          this.lastInputs = cache.inputsVersion;
          this.last = compile(cache.bag());
          for (const l of this.compiledListeners) l(this.last);
        }
        const failed = await reconcilePass(keys, this.last, {
          rest: this.o.rest,
          cache,
          writer: this.writer,
          metrics,
          canWrite,
          controlPlaneAddress: this.o.controlPlaneAddress,
          image: this.o.image,
          concurrency: this.o.concurrency,
          applied: this.applied,
          log: logger,
          events: this.events ?? undefined,
          onError: (scope, key, err) => logger.warn({ scope, key, err: String(err) }, 'reconcile error'),
        });
        for (const k of keys) if (!failed.has(k)) this.queue.forget(k);
        for (const [k, err] of failed) {
          const delay = this.queue.retry(k);
          logger.warn({ pool: k, err: String(err), retryInMs: delay }, 'pool reconcile failed');
        }
      } catch (err) {
        if (err instanceof LeadershipLostError) return;
        metrics.reconcileErrors.inc({ kind: 'compile' });
        logger.error({ err: String(err) }, 'reconcile pass failed');
        for (const k of keys) this.queue.retry(k);
      } finally {
        end();
      }
    }
  }
}
