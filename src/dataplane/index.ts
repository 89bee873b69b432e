// startDataplane: the program every IngressPool replica runs. With one worker (the default in tests)
// everything runs in this process; with more, this process becomes a node:cluster primary that
// forks the workers, feeds them snapshots over IPC and serves the aggregated admin endpoints
// (workers.ts). Ports 0 pick free ports; the chosen ones are reported back.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { SnapshotStore, type ApplyResult } from './snapshot-store.ts';
import { DataplaneMetrics, RouteMetrics } from './metrics.ts';
import { UpstreamRegistry } from './upstreams.ts';
import { OverloadGuard } from './overload.ts';
import { RetryBudget } from './retry.ts';
import { AccessLog } from './access-log.ts';
import { TunnelRegistry } from './websocket.ts';
import { Listener } from './listener.ts';
import { startAdmin } from './admin.ts';
import { drainDataplane } from './drain.ts';
import { startPrimary } from './workers.ts';
import { resolveWorkerCount } from './cgroup.ts';
import { installProcessGuard } from './process-guard.ts';
import type { ProxyRuntime } from './context.ts';
import type { RuntimeConfig } from './runtime-config.ts';
import { SecretFiles } from './secrets.ts';
import { TlsListener } from './tls-listener.ts';
import './policy/builtin.ts';

export { SnapshotStore, type ApplyResult } from './snapshot-store.ts';
export type { RuntimeConfig, RouteContext, ClusterRuntime } from './runtime-config.ts';

export interface DataplaneOptions {
  snapshot?: PoolSnapshot;
  snapshotFile?: string;
  /** overrides snapshot.listener.port; 0 = any free port */
  port?: number;
  /** overrides snapshot.listener.adminPort; 0 = any free port; null = no admin server (cluster workers) */
  adminPort?: number | null;
  host?: string;
  /** overrides snapshot.workers; 1 = in-process */
  workers?: number;
  /** access and process logs (JSON lines); default stdout through an async pino destination */
  logStream?: NodeJS.WritableStream;
  /** without logStream: append the logs to this file instead of stdout (same batching writer) */
  logFile?: string;
  /** this process is one of n workers of a replica: per-replica limits are divided by n (default 1) */
  workerShare?: number;
  /** hard limit for drain(); default websocket.drainPeriodMs + 10 s */
  drainGraceMs?: number;
  /**
   * install the process-wide last-resort handlers (process-guard.ts): for the process that is a data
   * plane (the CLI, cluster workers), never for one of many data planes inside a test process
   */
  guardProcess?: boolean;
  /** `--secrets <dir>`: Secrets as files `<dir>/<namespace>/<name>/<key>` (Redis URLs, certificates) */
  secretsDir?: string;
  /** opens the admin port's /config to non-loopback clients that send it as a bearer token */
  adminToken?: string | null;
  /** how often Secret files are checked for changes; default 2000 ms */
  secretsPollMs?: number;
  /** overrides snapshot.listener.tls.port; 0 = any free port */
  tlsPort?: number;
}

export interface Dataplane {
  port: number;
  adminPort: number;
  /** the HTTPS port, 0 when the pool has no listener.tls */
  tlsPort: number;
  store: SnapshotStore;
  apply(s: PoolSnapshot): ApplyResult;
  /** apply, resolved once every worker process serves it (what an ACK to the operator must mean) */
  applyAndWait(s: PoolSnapshot): Promise<ApplyResult>;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A snapshot from a JSON file: the snapshot itself, or a `{ "<ns>/<pool>": snapshot }` map with a
 * single entry (what `bulkhead render --output snapshots` prints for one pool).
 */
export function loadSnapshotFile(file: string): PoolSnapshot {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (data !== null && typeof data === 'object' && !('apiVersion' in data)) {
    const values = Object.values(data);
    if (values.length === 1 && values[0] !== null && typeof values[0] === 'object')
      return values[0] as PoolSnapshot;
    throw Object.assign(
      new Error(
        `${file}: expected one PoolSnapshot, found ${values.length} entries; pick one with render --pool`,
      ),
      { code: 'BH_ERR_SNAPSHOT_FILE' },
    );
  }
  return data as unknown as PoolSnapshot;
}

export async function startDataplane(opts: DataplaneOptions): Promise<Dataplane> {
  const snapshot =
    opts.snapshot ?? (opts.snapshotFile !== undefined ? loadSnapshotFile(opts.snapshotFile) : undefined);
  if (snapshot === undefined)
    throw Object.assign(new Error('startDataplane needs a snapshot or a snapshotFile'), {
      code: 'BH_ERR_NO_SNAPSHOT',
    });
  const workers = opts.workers ?? resolveWorkerCount(snapshot.workers ?? 1);
  if (workers > 1) return startPrimary({ ...opts, snapshot, workers });
  return startInProcess({ ...opts, snapshot });
}

/** One process serving the data port (a single-worker pool, or one worker of a cluster). */
export async function startInProcess(
  opts: DataplaneOptions & { snapshot: PoolSnapshot; defaultMetrics?: boolean },
): Promise<Dataplane & { metrics: DataplaneMetrics }> {
  const metrics = new DataplaneMetrics(opts.defaultMetrics !== false);
  const accessLog = new AccessLog(opts.logStream, opts.logFile);
  metrics.accessLogDropped = () => accessLog.droppedBytes;
  const upstreams = new UpstreamRegistry();
  const secrets = new SecretFiles(opts.secretsDir ?? null, opts.secretsPollMs);
  const store = new SnapshotStore({
    metrics,
    upstreams,
    log: accessLog.logger,
    secrets,
    workers: Math.max(1, opts.workerShare ?? 1),
  });
  const overload = new OverloadGuard(metrics);
  const rt: ProxyRuntime = {
    store,
    metrics,
    upstreams,
    overload,
    budget: new RetryBudget(),
    accessLog,
    tunnels: new TunnelRegistry(metrics),
    unrouted: new RouteMetrics(metrics, ''),
    maxUriBytes: 8192,
    draining: false,
    workerShare: Math.max(1, opts.workerShare ?? 1),
  };
  let listener: Listener | null = null;
  let tlsListener: TlsListener | null = null;
  store.on('swap', (cfg: RuntimeConfig) => {
    const s = cfg.snapshot;
    // per-replica limits: each worker process takes its share
    overload.maxConcurrent = Math.ceil(s.overload.maxConcurrentRequests / rt.workerShare);
    overload.maxLagMs = s.overload.maxEventLoopDelayMs;
    accessLog.configure(s.accessLog.enabled, s.accessLog.sampleRate);
    rt.unrouted = new RouteMetrics(metrics, '');
    listener?.configure(s.listener, s.websocket);
    // the HTTPS port is bound at start; later snapshots change certificates and client auth
    if (tlsListener !== null && s.listener.tls !== null) tlsListener.configure(s.listener.tls);
  });
  const first = store.apply(opts.snapshot);
  if (!first.ok) {
    overload.close();
    throw Object.assign(new Error(`snapshot refused: ${first.error}`), { code: 'BH_ERR_SNAPSHOT_INVALID' });
  }
  const unguard =
    opts.guardProcess === true
      ? installProcessGuard({ count: (r) => metrics.connectionError(r), log: accessLog.logger })
      : null;
  const host = opts.host ?? '0.0.0.0';
  const l = opts.snapshot.listener;
  let admin: { app: FastifyInstance; port: number } | null = null;
  // ready only once the data port(s) accept: the admin server starts first, and listening can take
  // a moment (accept-fanout.ts); a pod reported ready earlier would get traffic it refuses, and a
  // SIGTERM before the caller's handler is installed would end the process without a drain
  let serving = false;
  if (opts.adminPort !== null) {
    admin = await startAdmin(
      {
        ready: () => serving && store.peek() !== null && !rt.draining,
        metrics: async () => ({
          contentType: metrics.registry.contentType,
          body: await metrics.registry.metrics(),
        }),
        config: () => {
          const c = store.peek();
          return c === null ? null : { version: c.version, snapshot: c.snapshot };
        },
      },
      opts.adminPort ?? l.adminPort,
      host,
      opts.adminToken ?? null,
    );
  }
  listener = new Listener(rt, l, opts.snapshot.websocket);
  const port = await listener.listen(opts.port ?? l.port, host, l.backlog);
  let tlsPort = 0;
  if (l.tls !== null) {
    tlsListener = new TlsListener(listener, secrets, l.tls, accessLog.logger);
    tlsPort = await tlsListener.listen(opts.tlsPort ?? l.tls.port, host, l.backlog);
  }
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      rt.draining = true;
      rt.tunnels.closeAll(false);
      await tlsListener?.close();
      await listener!.close();
      secrets.close();
      if (admin !== null) await admin.app.close();
      store.close();
      secrets.close();
      overload.close();
      await upstreams.closeAll(true);
      accessLog.close();
      unguard?.();
    })());
  serving = true;
  return {
    port,
    adminPort: admin?.port ?? 0,
    tlsPort,
    store,
    metrics,
    apply: (s) => store.apply(s),
    applyAndWait: async (s) => store.apply(s),
    drain: async () => {
      const cfg = store.peek();
      const wsDrainMs = cfg?.snapshot.websocket.drainPeriodMs ?? 0;
      await drainDataplane(rt, listener!, { wsDrainMs, graceMs: opts.drainGraceMs ?? wsDrainMs + 10_000 });
      await tlsListener?.close();
      await close();
    },
    close,
  };
}
