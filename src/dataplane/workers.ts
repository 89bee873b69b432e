// Multi-process pools. The primary forks `workers` processes (node:cluster; they share the data
// port), owns the snapshot input (validates it in a SnapshotStore without health checks, then sends
// it to every worker over IPC), answers the admin endpoints with metrics aggregated across workers
// (prom-client AggregatorRegistry), replaces workers that die, and drains them on shutdown.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import prom from 'prom-client';
import type { PoolSnapshot } from '../ir/snapshot.ts';
import { SnapshotStore, type ApplyResult } from './snapshot-store.ts';
import { DataplaneMetrics } from './metrics.ts';
import { startAdmin } from './admin.ts';
import type { Dataplane, DataplaneOptions } from './index.ts';

/** primary → worker */
export type ToWorker =
  | {
      type: 'start';
      snapshot: PoolSnapshot;
      port: number;
      host: string;
      secretsDir: string | null;
      workers: number;
      tlsPort?: number;
    }
  | { type: 'snapshot'; snapshot: PoolSnapshot }
  | { type: 'drain' };
/** worker → primary */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'ready'; port: number; tlsPort: number }
  | { type: 'applied'; version: string; ok: boolean; error?: string }
  | { type: 'failed'; error: string };

/** how long a worker may take to apply a snapshot before the primary reports a failure */
const WORKER_APPLY_TIMEOUT_MS = 10_000;

function workerApplied(w: Worker, version: string, timeoutMs: number): Promise<ApplyResult> {
  return new Promise((resolve) => {
    const done = (r: ApplyResult): void => {
      clearTimeout(timer);
      w.off('message', onMessage);
      w.off('exit', onExit);
      resolve(r);
    };
    const onMessage = (m: FromWorker): void => {
      if (m.type === 'applied' && m.version === version)
        done(m.ok ? { ok: true } : { ok: false, error: `worker ${w.id}: ${m.error ?? 'refused'}` });
    };
    // a worker that dies is replaced with the current snapshot, so it does not hold the ACK back
    const onExit = (): void => done({ ok: true });
    const timer = setTimeout(
      () => done({ ok: false, error: `worker ${w.id} did not apply ${version} within ${timeoutMs} ms` }),
      timeoutMs,
    );
    w.on('message', onMessage);
    w.once('exit', onExit);
  });
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export async function startPrimary(
  opts: DataplaneOptions & { snapshot: PoolSnapshot; workers: number },
): Promise<Dataplane> {
  const metrics = new DataplaneMetrics(false);
  const store = new SnapshotStore({ metrics, healthChecks: false });
  const first = store.apply(opts.snapshot);
  if (!first.ok)
    throw Object.assign(new Error(`snapshot refused: ${first.error}`), { code: 'BH_ERR_SNAPSHOT_INVALID' });
  const host = opts.host ?? '0.0.0.0';
  const aggregator = new prom.AggregatorRegistry();
  let draining = false;
  let stopping = false;
  // every worker listens with the same requested port (0 included): cluster then hands them all the
  // same shared handle; `port` is the one actually bound, as reported by the first worker
  const listenPort = opts.port ?? opts.snapshot.listener.port;
  let port = listenPort;
  let tlsPort = opts.tlsPort ?? opts.snapshot.listener.tls?.port ?? 0;
  const ready = new Set<Worker>();

  const execArgv = process.execArgv.some((a) => a.includes('tsx'))
    ? process.execArgv
    : [...process.execArgv, '--import', 'tsx'];
  cluster.setupPrimary({ exec: WORKER_ENTRY, execArgv, silent: false });

  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork();
      w.on('message', (m: FromWorker) => {
        // 'hello' rather than cluster's 'online': only then is the worker's message handler installed
        if (m.type === 'hello')
          w.send({
            type: 'start',
            snapshot: store.current().snapshot,
            port: listenPort,
            host,
            secretsDir: opts.secretsDir ?? null,
            workers: opts.workers,
            ...(opts.snapshot.listener.tls !== null ? { tlsPort } : {}),
          } satisfies ToWorker);
        else if (m.type === 'ready') {
          port = m.port;
          tlsPort = m.tlsPort;
          ready.add(w);
          resolve();
        } else if (m.type === 'failed') reject(new Error(m.error));
      });
      w.on('exit', () => {
        // a worker that served and then died is replaced (with the current snapshot); one that never
        // came up is not, or a bad config would fork forever
        if (ready.delete(w) && !stopping) void fork().catch(() => undefined);
        else reject(new Error('worker exited before it was ready'));
      });
    });

  // the first worker picks the port (0 → random); the others join the same shared handle
  await fork();
  await Promise.all(Array.from({ length: opts.workers - 1 }, fork));

  const admin =
    opts.adminPort === null
      ? null
      : await startAdmin(
          {
            ready: () => !draining && ready.size > 0,
            metrics: async () => ({
              contentType: aggregator.contentType,
              body: await aggregator.clusterMetrics(),
            }),
            config: () => {
              const c = store.peek();
              return c === null ? null : { version: c.version, snapshot: c.snapshot };
            },
          },
          opts.adminPort ?? opts.snapshot.listener.adminPort,
          host,
          opts.adminToken ?? null,
        );

  const apply = (s: PoolSnapshot): ApplyResult => {
    const r = store.apply(s);
    if (r.ok)
      for (const w of Object.values(cluster.workers ?? {}))
        w?.send({ type: 'snapshot', snapshot: s } satisfies ToWorker);
    return r;
  };
  // An ACK to the operator means every worker serves the version: wait for each one's 'applied'.
  const applyAndWait = async (s: PoolSnapshot): Promise<ApplyResult> => {
    const r = store.apply(s);
    if (!r.ok) return r;
    const live = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w !== undefined && !w.isDead(),
    );
    const answers = live.map((w) => workerApplied(w, s.version, WORKER_APPLY_TIMEOUT_MS));
    for (const w of live) w.send({ type: 'snapshot', snapshot: s } satisfies ToWorker);
    const results = await Promise.all(answers);
    const bad = results.find((x) => !x.ok);
    return bad ?? { ok: true };
  };
  // gone = exited AND its IPC channel closed: cluster drops a worker from cluster.workers only once
  // both happened, and the two events arrive in either order
  const waitExit = (): Promise<void> =>
    Promise.all(
      Object.values(cluster.workers ?? {}).map(
        (w) =>
          new Promise<void>((r) => {
            if (w === undefined) return r();
            const check = (): void => {
              if (w.isDead() && !w.isConnected()) r();
            };
            w.on('exit', check);
            w.on('disconnect', check);
            check();
          }),
      ),
    ).then(() => undefined);

  const close = async (): Promise<void> => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    await waitExit();
    await admin?.app.close();
    store.close();
  };
  return {
    port,
    adminPort: admin?.port ?? 0,
    tlsPort,
    store,
    apply,
    applyAndWait,
    drain: async () => {
      draining = true;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.send({ type: 'drain' } satisfies ToWorker);
      await waitExit();
      await admin?.app.close();
      store.close();
    },
    close,
  };
}
