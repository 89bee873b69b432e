// The controller: informers feed a work queue keyed by pool; the leader drains it in passes of
// compile (once, reused while no input changed) → reconcile the due pools → statuses. Standbys keep
// warm caches and take over with a full resync. Other servers (admission webhook, config stream)
// plug in through `extraServers` and get the caches, the last compile and `setProgrammed`.

import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { compile, type CompileResult, type ResourceBag } from '../compiler/index.ts';
import { LABEL_MANAGED_BY, LABEL_POOL } from '../synth/identity.ts';
import { affectedPools } from './affected-pools.ts';
import { ClusterCache } from './informers.ts';
import { KubeRest } from './kube-rest.ts';
import { LeaderElector } from './leader-election.ts';
import { OperatorMetrics, startMetricsServer } from './metrics.ts';
import { reconcilePass, STATUS_ONLY_KEY } from './reconcile.ts';
import { LeadershipLostError, StatusWriter, type ProgrammedVerdict } from './status-writer.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorContext {
  kubeConfig: KubeConfig;
  rest: KubeRest;
  metrics: OperatorMetrics;
  logger: Logger;
  /** the compiler's input as the caches hold it now */
  bag(): ResourceBag;
  /** the last compile result (undefined before the first pass) */
  lastResult(): CompileResult | undefined;
  /** called after every compile that produced a new result */
  onCompiled(listener: (result: CompileResult) => void): void;
  /** the config stream reports data-plane acknowledgements here; the pool's status follows */
  setProgrammed(poolKey: string, verdict: ProgrammedVerdict): void;
  isLeader(): boolean;
}

export interface ExtraServer {
  start(ctx: OperatorContext): Promise<void>;
  stop(): Promise<void>;
}

export interface OperatorOptions {
  /** a kubeconfig file, a loaded KubeConfig, or nothing for KUBECONFIG / ~/.kube/config / in-cluster */
  kubeconfig?: string | KubeConfig;
  /** namespaces to watch for the Bulkhead kinds, Services and EndpointSlices; empty = all */
  namespaces?: string[];
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** lease holder identity; default hostname + pid */
  identity?: string;
  /** `[host]:port` for /metrics /healthz /readyz; default `:8081`; false = no server */
  metricsAddr?: string | false;
  holdOffMs?: number;
  maxHoldOffMs?: number;
  /** full resync period; default 10 minutes */
  resyncIntervalMs?: number;
  /** pools reconciled in parallel within a pass; default 4 */
  concurrency?: number;
  /** the config stream's address, handed to the synthesizer for the pods */
  controlPlaneAddress?: string;
  extraServers?: ExtraServer[];
  logger?: Logger;
}

export interface OperatorHandle extends OperatorContext {
  metricsPort: number | undefined;
  /** enqueue every pool now and wait until the queue is drained */
  resync(timeoutMs?: number): Promise<void>;
  /** wait until no pool is queued or being reconciled */
  whenIdle(timeoutMs?: number): Promise<void>;
  /** stops passes at once, then extra servers, releases the lease (unless `releaseLease: false`), closes the caches */
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

export async function startOperator(opts: OperatorOptions = {}): Promise<OperatorHandle> {
  const kc = loadKubeConfig(opts.kubeconfig);
  const logger = opts.logger ?? pino({ name: 'bulkhead-operator' }, pino.destination(2));
  const metrics = new OperatorMetrics();
  const rest = new KubeRest(kc);
  rest.onRequest((verb, resource) => metrics.apiRequests.inc({ verb, resource }));
  const cache = new ClusterCache(rest, {
    namespaces: opts.namespaces,
    onError: (kind, err) => {
      metrics.reconcileErrors.inc({ kind: 'informer' });
      logger.warn({ kind, err: String(err) }, 'watch failed; restarting with back-off');
    },
  });

  let leading = !opts.leaderElect;
  let stopping = false;
  let last: CompileResult | undefined;
  let lastInputs = -1;
  const compiledListeners: ((r: CompileResult) => void)[] = [];
  const applied = new Map<string, { hash: string; marker: string }>();
  const canWrite = () => leading && !stopping;
  const writer = new StatusWriter(rest, {
    canWrite,
    cached: (res, ns, name) => cache.get(res.kind as never, ns, name),
    onWrite: (kind) => metrics.statusWrites.inc({ kind }),
  });

  const queue = new WorkQueue({ holdOffMs: opts.holdOffMs, maxHoldOffMs: opts.maxHoldOffMs });
  let busy: Promise<void> | undefined;
  const kick = () => {
    if (busy || !canWrite()) return;
    busy = drain().finally(() => {
      busy = undefined;
      metrics.queueDepth.set(queue.depth);
    });
  };
  queue.onReady = kick;

  const drain = async () => {
    for (let keys = queue.takeDue(); keys.length && canWrite(); keys = queue.takeDue()) {
      metrics.queueDepth.set(queue.depth);
      const end = metrics.reconcileDuration.startTimer();
      try {
        if (!last || cache.inputsVersion !== lastInputs) {
          lastInputs = cache.inputsVersion;
          last = compile(cache.bag());
          for (const l of compiledListeners) l(last);
        }
        const failed = await reconcilePass(keys, last, {
          rest,
          cache,
          writer,
          metrics,
          canWrite,
          controlPlaneAddress: opts.controlPlaneAddress,
          concurrency: opts.concurrency,
          applied,
          onError: (scope, key, err) => logger.warn({ scope, key, err: String(err) }, 'reconcile error'),
        });
        for (const k of keys) if (!failed.has(k)) queue.forget(k);
        for (const [k, err] of failed) {
          const delay = queue.retry(k);
          logger.warn({ pool: k, err: String(err), retryInMs: delay }, 'pool reconcile failed');
        }
      } catch (err) {
        if (err instanceof LeadershipLostError) return;
        metrics.reconcileErrors.inc({ kind: 'compile' });
        logger.error({ err: String(err) }, 'reconcile pass failed');
        for (const k of keys) queue.retry(k);
      } finally {
        end();
      }
    }
  };

  cache.onEvent((kind, type, obj, old) => {
    if (!canWrite()) return; // a new leader starts with a full resync anyway
    const keys =
      type === 'delete' ? affectedPools(kind, undefined, obj, idx) : affectedPools(kind, obj, old, idx);
    for (const k of keys) queue.add(k);
    metrics.queueDepth.set(queue.depth);
  });
  const idx = {
    pools: () => cache.list('IngressPool'),
    routes: () => cache.list('RouteSplit'),
    route: (ns: string, name: string) => cache.get('RouteSplit', ns, name),
  };

  /** every pool there is, plus pools that only their leftovers remember (deleted while we were down) */
  const allKeys = () => {
    const keys = new Set<string>();
    for (const p of cache.list('IngressPool')) keys.add(`${p.metadata.namespace}/${p.metadata.name}`);
    for (const kind of [
      'ConfigMap',
      'ServiceAccount',
      'Deployment',
      'DaemonSet',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Service',
    ] as const) {
      for (const o of cache.list(kind)) {
        const l = o.metadata.labels ?? {};
        if (l[LABEL_MANAGED_BY] === 'bulkhead' && l[LABEL_POOL])
          keys.add(`${o.metadata.namespace}/${l[LABEL_POOL]}`);
      }
    }
    return keys;
  };
  const resyncAll = () => {
    for (const k of allKeys()) queue.addNow(k);
    // route/policy statuses ride on any pass; make sure one runs even with no pool at all
    if (queue.depth === 0) queue.addNow(STATUS_ONLY_KEY);
    kick();
  };

  cache.start();
  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  const metricsAddr = opts.metricsAddr ?? ':8081';
  try {
    if (metricsAddr !== false) server = await startMetricsServer(metricsAddr, metrics, () => cache.synced);
    await cache.whenSynced();
  } catch (err) {
    await cache.stop();
    await server?.app.close();
    await rest.close();
    throw err;
  }
  logger.info({ namespaces: opts.namespaces ?? 'all' }, 'caches synced');

  // Extra servers (webhook, config stream) start before the first pass, so they see every compile.
  const ctx: OperatorContext = {
    kubeConfig: kc,
    rest,
    metrics,
    logger,
    bag: () => cache.bag(),
    lastResult: () => last,
    onCompiled: (l) => compiledListeners.push(l),
    setProgrammed: (poolKey, verdict) => {
      writer.setProgrammed(poolKey, verdict);
      if (canWrite()) queue.add(poolKey);
    },
    isLeader: () => canWrite(),
  };
  const extras: ExtraServer[] = [];
  try {
    for (const s of opts.extraServers ?? []) {
      await s.start(ctx);
      extras.push(s);
    }
  } catch (err) {
    for (const s of extras.reverse()) await s.stop().catch(() => {});
    await cache.stop();
    await server?.app.close();
    await rest.close();
    throw err;
  }

  let elector: LeaderElector | undefined;
  if (opts.leaderElect) {
    elector = new LeaderElector(rest, {
      namespace: opts.leaseNamespace ?? 'default',
      name: opts.leaseName,
      identity: opts.identity ?? `${hostname()}-${process.pid}`,
      leaseDurationSeconds: opts.leaseDurationSeconds,
      renewDeadlineSeconds: opts.renewDeadlineSeconds,
      retryPeriodSeconds: opts.retryPeriodSeconds,
      onStartedLeading: () => {
        leading = true;
        metrics.leader.set(1);
        logger.info('became leader');
        resyncAll();
      },
      onStoppedLeading: () => {
        leading = false; // canWrite() turns false: the running pass stops at its next write
        metrics.leader.set(0);
        logger.warn('lost leadership; writes stopped');
      },
      onError: (err) => logger.warn({ err: String(err) }, 'lease renewal failed'),
    });
    elector.start();
  } else {
    metrics.leader.set(1);
    resyncAll();
  }

  const resyncTimer = setInterval(() => canWrite() && resyncAll(), opts.resyncIntervalMs ?? 600_000);
  resyncTimer.unref();

  const whenIdle = async (timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (busy || queue.depth > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `BH_ERR_OPERATOR_BUSY: queue not drained after ${timeoutMs} ms (depth ${queue.depth})`,
        );
      if (busy) await busy;
      else await new Promise((r) => setTimeout(r, 10));
    }
  };

  let stopped: Promise<void> | undefined;
  return {
    ...ctx,
    metricsPort: server?.port,
    whenIdle,
    resync: async (timeoutMs) => {
      resyncAll();
      await whenIdle(timeoutMs);
    },
    stop: (stopOpts) =>
      (stopped ??= (async () => {
        stopping = true;
        clearInterval(resyncTimer);
        queue.shutdown();
        await busy;
        for (const s of [...extras].reverse())
          await s.stop().catch((err) => logger.warn({ err: String(err) }, 'extra server stop failed'));
        await elector?.stop(stopOpts?.releaseLease ?? true);
        await cache.stop();
        await server?.app.close();
        await rest.close();
        metrics.leader.set(0);
      })()),
  };
}

export function loadKubeConfig(src: string | KubeConfig | undefined): KubeConfig {
  if (src instanceof KubeConfig) return src;
  const kc = new KubeConfig();
  if (src) kc.loadFromFile(src);
  else kc.loadFromDefault();
  return kc;
}
