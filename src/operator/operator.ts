// startOperator: wires the operator together — kubeconfig → REST client → informers → pool
// controller, the metrics/health server, leader election, and other servers (admission webhook,
// config stream) plugged in through `extraServers`, which get the caches, the last compile and
// `setProgrammed`. Standbys keep warm caches and take over with a full resync.

import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import type { CompileResult, ResourceBag } from '../compiler/index.ts';
import { PoolController } from './controller.ts';
import { ClusterCache } from './informers.ts';
import { KubeRest } from './kube-rest.ts';
import { LeaderElector } from './leader-election.ts';
import { OperatorMetrics, startMetricsServer } from './metrics.ts';
import type { ProgrammedVerdict } from './status-writer.ts';

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
  /** the operator's own image: what a pool with an empty spec.deployment.image runs */
  image?: string;
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
  const canWrite = () => leading && !stopping;
  const controller = new PoolController({
    rest,
    cache,
    metrics,
    logger,
    canWrite,
    holdOffMs: opts.holdOffMs,
    maxHoldOffMs: opts.maxHoldOffMs,
    concurrency: opts.concurrency,
    controlPlaneAddress: opts.controlPlaneAddress,
    image: opts.image,
  });

  let server: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  const extras: ExtraServer[] = [];
  const closeAll = async () => {
    for (const s of extras.splice(0).reverse()) {
      await s.stop().catch((err) => logger.warn({ err: String(err) }, 'extra server stop failed'));
    }
    await cache.stop();
    await server?.app.close();
    await rest.close();
  };

  // Extra servers (webhook, config stream) start before the first pass, so they see every compile.
  const ctx: OperatorContext = {
    kubeConfig: kc,
    rest,
    metrics,
    logger,
    bag: () => cache.bag(),
    lastResult: () => controller.last,
    onCompiled: (l) => controller.onCompiled(l),
    setProgrammed: (poolKey, verdict) => controller.setProgrammed(poolKey, verdict),
    isLeader: () => canWrite(),
  };
  cache.start();
  try {
    const metricsAddr = opts.metricsAddr ?? ':8081';
    if (metricsAddr !== false) server = await startMetricsServer(metricsAddr, metrics, () => cache.synced);
    await cache.whenSynced();
    logger.info({ namespaces: opts.namespaces ?? 'all' }, 'caches synced');
    for (const s of opts.extraServers ?? []) {
      await s.start(ctx);
      extras.push(s);
    }
  } catch (err) {
    await closeAll();
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
        controller.resyncAll();
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
    controller.resyncAll();
  }

  const resyncTimer = setInterval(
    () => canWrite() && controller.resyncAll(),
    opts.resyncIntervalMs ?? 600_000,
  );
  resyncTimer.unref();

  let stopped: Promise<void> | undefined;
  return {
    ...ctx,
    metricsPort: server?.port,
    whenIdle: (timeoutMs) => controller.whenIdle(timeoutMs),
    resync: async (timeoutMs) => {
      controller.resyncAll();
      await controller.whenIdle(timeoutMs);
    },
    stop: (stopOpts) =>
      (stopped ??= (async () => {
        stopping = true;
        clearInterval(resyncTimer);
        await controller.shutdown();
        await elector?.stop(stopOpts?.releaseLease ?? true);
        await closeAll();
        metrics.leader.set(0);
      })()),
  };
}

export function loadKubeConfig(src: string | KubeConfig | undefined): KubeConfig {
  if (src instanceof KubeConfig) return src;
  const kc = new KubeConfig();
  try {
    if (src) kc.loadFromFile(src);
    else kc.loadFromDefault();
  } catch (err) {
    throw new Error(
      `BH_ERR_OPERATOR_KUBECONFIG: cannot load ${src ? `kubeconfig ${src}` : 'the default kubeconfig'}: ${(err as Error).message}; pass --kubeconfig <file>, set KUBECONFIG, or run inside a cluster`,
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `BH_ERR_OPERATOR_KUBECONFIG: ${src ?? 'the default kubeconfig'} has no current cluster; set current-context`,
    );
  }
  return kc;
}
