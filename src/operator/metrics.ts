// Prometheus metrics of one operator instance, and the Fastify server for /metrics, /healthz and
// /readyz. Each instance owns its Registry: tests run two operators (leader and standby) in one
// process, and their counters must not mix.

import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: 'bulkhead_operator_reconcile_duration_seconds',
    help: 'Duration of one reconcile pass (compile + apply + prune + status for the due pools)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'bulkhead_operator_reconcile_errors_total',
    help: 'Reconcile errors by kind (compile, synth, apply, prune, status, informer)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'bulkhead_operator_queue_depth',
    help: 'Pools waiting in the work queue',
    registers: [this.registry],
  });
  readonly applies = new Counter({
    name: 'bulkhead_operator_apply_total',
    help: 'Server-side apply requests sent, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly appliesSkipped = new Counter({
    name: 'bulkhead_operator_apply_skipped_total',
    help: 'Applies skipped because the live object already carries the desired hash',
    registers: [this.registry],
  });
  readonly prunes = new Counter({
    name: 'bulkhead_operator_prune_total',
    help: 'Owned objects deleted because no pool wants them any more, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: 'bulkhead_operator_status_writes_total',
    help: 'Status subresource writes, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly snapshotInfo = new Gauge({
    name: 'bulkhead_operator_snapshot_info',
    help: 'Current snapshot version per pool (value 1)',
    labelNames: ['pool', 'version'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'bulkhead_operator_leader',
    help: '1 while this instance holds the leader lease (or runs without leader election)',
    registers: [this.registry],
  });
  readonly apiRequests = new Counter({
    name: 'bulkhead_operator_api_requests_total',
    help: 'Requests to the Kubernetes API by verb and resource',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });

  private readonly versions = new Map<string, string>();

  setSnapshotVersion(pool: string, version: string | undefined): void {
    const prev = this.versions.get(pool);
    if (prev === version) return;
    if (prev !== undefined) this.snapshotInfo.remove({ pool, version: prev });
    if (version === undefined) this.versions.delete(pool);
    else {
      this.versions.set(pool, version);
      this.snapshotInfo.set({ pool, version }, 1);
    }
  }

  /** Sum of a counter over all its label sets (tests read write counts this way). */
  async total(counter: Counter<string>): Promise<number> {
    const m = await counter.get();
    return m.values.reduce((s, v) => s + v.value, 0);
  }
}

/** `:8081` → all interfaces; `127.0.0.1:0` → an ephemeral loopback port (tests). */
export function parseAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  if (i < 0)
    throw new Error(`BH_ERR_OPERATOR_ADDR: --metrics-addr "${addr}" must be [host]:port, e.g. :8081`);
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '') || '0.0.0.0';
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`BH_ERR_OPERATOR_ADDR: --metrics-addr "${addr}" has no valid port (0-65535)`);
  }
  return { host, port };
}

export async function startMetricsServer(
  addr: string,
  metrics: OperatorMetrics,
  ready: () => boolean,
): Promise<{ app: FastifyInstance; port: number }> {
  const { host, port } = parseAddr(addr);
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (ready()) return { status: 'ok' };
    return reply.code(503).send({ status: 'caches not synced' });
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.listen({ host, port });
  const a = app.server.address();
  return { app, port: typeof a === 'object' && a ? a.port : port };
}
