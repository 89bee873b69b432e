// Prometheus metrics of one data-plane process. Each Dataplane owns its own Registry (tests run many
// in one process; workers hand theirs to the primary's AggregatorRegistry). The hot path never builds
// a label set: route contexts cache their children (see RouteMetrics), built once per snapshot.
// Every series also carries `product_line` (the pool's spec.productLine) as a registry default label,
// added at scrape time, not per request: multi-team clusters charge back and alert by product line,
// which may span several pools, without a Prometheus relabel rule per pool.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DeferredCounters, FastHistogram, type HistogramSeries, type PendingCount } from './fast-metrics.ts';

export type ConnProtocol = 'http1' | 'h2' | 'websocket';

export class DataplaneMetrics {
  readonly registry = new Registry();
  pool = '';
  /** per-request counts, added to `requests` when it is collected (fast-metrics.ts) */
  readonly pendingRequests = new DeferredCounters();
  readonly requests = new Counter({
    name: 'bulkhead_requests_total',
    help: 'Requests answered, by route, backend cluster, status class and gRPC status ("" for non-gRPC)',
    labelNames: ['pool', 'route', 'cluster', 'code_class', 'grpc_status'] as const,
    registers: [this.registry],
    collect: flushPending(this.pendingRequests),
  });
  readonly duration = new FastHistogram(
    'bulkhead_request_duration_seconds',
    'Time from request start to the end of the response, by route and gRPC status ("" for non-gRPC)',
    ['pool', 'route', 'grpc_status'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    this.registry,
  );
  readonly upstreamConnectErrors = new Counter({
    name: 'bulkhead_upstream_connect_errors_total',
    help: 'Failed connection attempts to upstream endpoints',
    labelNames: ['pool', 'cluster'] as const,
    registers: [this.registry],
  });
  readonly activeConnections = new Gauge({
    name: 'bulkhead_active_connections',
    help: 'Open downstream connections by protocol',
    labelNames: ['pool', 'protocol'] as const,
    registers: [this.registry],
  });
  readonly websocketsTotal = new Counter({
    name: 'bulkhead_websocket_connections_total',
    help: 'WebSocket tunnels opened',
    labelNames: ['pool', 'route'] as const,
    registers: [this.registry],
  });
  readonly snapshotInfo = new Gauge({
    name: 'bulkhead_snapshot_info',
    help: 'The snapshot version being served (value 1)',
    labelNames: ['pool', 'version'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly snapshotsApplied = new Counter({
    name: 'bulkhead_snapshots_applied_total',
    help: 'Snapshots validated and swapped in',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });
  readonly snapshotsRejected = new Counter({
    name: 'bulkhead_snapshots_rejected_total',
    help: 'Snapshots refused (the last good one kept serving)',
    labelNames: ['pool'] as const,
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'bulkhead_shed_requests_total',
    help: 'Requests refused by load shedding',
    labelNames: ['pool', 'reason'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'bulkhead_retries_total',
    help: 'Upstream retries started, and retries refused by the budget (outcome=budget)',
    labelNames: ['pool', 'route', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly policyErrors = new Counter({
    name: 'bulkhead_policy_errors_total',
    help: 'Requests failed with 500 because a policy of their route threw (a bug, never the client)',
    labelNames: ['pool', 'policy'] as const,
    registers: [this.registry],
  });
  readonly eventLoopLag = new Gauge({
    name: 'bulkhead_event_loop_lag_seconds',
    help: 'Recent event loop delay (p99 of the last sampling window)',
    labelNames: ['pool'] as const,
    aggregator: 'max',
    registers: [this.registry],
  });
  readonly connectionErrors = new Counter({
    name: 'bulkhead_connection_errors_total',
    help: 'Connections or streams closed by a guard: floods, handler exceptions, last-resort process handlers',
    labelNames: ['pool', 'reason'] as const,
    registers: [this.registry],
  });
  /** bytes the access log dropped so far (set by the Dataplane: AccessLog.droppedBytes) */
  accessLogDropped: () => number = () => 0;
  private droppedSeen = 0;
  readonly accessLogDroppedBytes = new Counter({
    name: 'bulkhead_access_log_dropped_bytes_total',
    help: 'Access and process log bytes dropped because the reader of the log destination fell 32 MiB behind, or it failed',
    labelNames: ['pool'] as const,
    registers: [this.registry],
    collect: () => {
      const d = this.accessLogDropped() - this.droppedSeen;
      if (d > 0) {
        this.droppedSeen += d;
        this.accessLogDroppedBytes.inc({ pool: this.pool }, d);
      }
    },
  });
  private readonly conn: Record<ConnProtocol, Gauge.Internal<'pool' | 'protocol'> | null> = {
    http1: null,
    h2: null,
    websocket: null,
  };
  private lastVersion: string | null = null;
  private productLine: string | null = null;

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'bulkhead_process_' });
  }

  connection(protocol: ConnProtocol, delta: 1 | -1): void {
    let child = this.conn[protocol];
    if (child === null) child = this.conn[protocol] = this.activeConnections.labels(this.pool, protocol);
    child.inc(delta);
  }

  /** one connection or stream closed by a guard; `reason` is from a small fixed set (h2-guard.ts) */
  connectionError(reason: string): void {
    this.connectionErrors.labels(this.pool, reason).inc();
  }

  setPool(pool: string): void {
    if (pool === this.pool) return;
    this.pool = pool;
    this.conn.http1 = this.conn.h2 = this.conn.websocket = null;
  }

  /** the constant `product_line` label on every series of this data plane */
  setProductLine(productLine: string): void {
    if (productLine === this.productLine) return;
    this.productLine = productLine;
    this.registry.setDefaultLabels({ product_line: productLine });
  }

  setVersion(version: string): void {
    if (this.lastVersion !== null) this.snapshotInfo.remove(this.pool, this.lastVersion);
    this.snapshotInfo.labels(this.pool, version).set(1);
    this.lastVersion = version;
  }
}

function flushPending(p: DeferredCounters): () => void {
  return () => p.flush();
}

const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/**
 * `grpc_status` label values by index: '' for non-gRPC requests, the 17 codes, and 'unknown' for
 * a gRPC request whose answer carried no valid grpc-status (reset, client gone). Whatever an
 * upstream sends, the label has at most these 19 values.
 */
const GRPC_LABELS = ['', ...Array.from({ length: 17 }, (_, i) => String(i)), 'unknown'];
export const GRPC_NONE = 0;
export const GRPC_UNKNOWN = 18;

/** Index into the grpc_status label values of a grpc-status header value (gRPC requests only). */
export function grpcStatusIndex(v: string | string[] | number | undefined): number {
  if (typeof v === 'number') return v >= 0 && v <= 16 && Number.isInteger(v) ? v + 1 : GRPC_UNKNOWN;
  if (typeof v !== 'string' || v.length === 0 || v.length > 2) return GRPC_UNKNOWN;
  const c0 = v.charCodeAt(0) - 48;
  if (c0 < 0 || c0 > 9) return GRPC_UNKNOWN;
  if (v.length === 1) return c0 + 1;
  const c1 = v.charCodeAt(1) - 48;
  return c0 === 1 && c1 >= 0 && c1 <= 6 ? 11 + c1 : GRPC_UNKNOWN; // 10..16
}

/** The grpc_status label value (access logs use it too); null for non-gRPC requests. */
export function grpcStatusLabel(idx: number): string | null {
  return idx === GRPC_NONE ? null : GRPC_LABELS[idx]!;
}

/** Label children of one route, created lazily and kept for the snapshot's lifetime. */
export class RouteMetrics {
  /** per grpc_status index */
  private readonly durations: (HistogramSeries | undefined)[] = [];
  /** per cluster: per code class × grpc_status index */
  private readonly byCluster = new Map<string, (PendingCount | undefined)[]>();
  private retryChild: Counter.Internal | null = null;
  private budgetChild: Counter.Internal | null = null;

  constructor(
    private readonly m: DataplaneMetrics,
    readonly routeId: string,
  ) {}

  /** `grpc`: a grpc_status index (GRPC_NONE for non-gRPC requests) */
  request(cluster: string, status: number, grpc = GRPC_NONE): void {
    let row = this.byCluster.get(cluster);
    if (row === undefined) this.byCluster.set(cluster, (row = []));
    let cls = ((status / 100) | 0) - 1;
    if (cls < 0 || cls > 4) cls = 4;
    const idx = cls * GRPC_LABELS.length + grpc;
    let child = row[idx];
    if (child === undefined)
      child = row[idx] = this.m.pendingRequests.add(
        this.m.requests.labels(this.m.pool, this.routeId, cluster, CODE_CLASSES[cls]!, GRPC_LABELS[grpc]!),
      );
    child.n++;
  }

  observe(seconds: number, grpc = GRPC_NONE): void {
    let child = this.durations[grpc];
    if (child === undefined)
      child = this.durations[grpc] = this.m.duration.child({
        pool: this.m.pool,
        route: this.routeId,
        grpc_status: GRPC_LABELS[grpc]!,
      });
    child.observe(seconds);
  }

  retry(started: boolean): void {
    if (started) (this.retryChild ??= this.m.retries.labels(this.m.pool, this.routeId, 'started')).inc();
    else (this.budgetChild ??= this.m.retries.labels(this.m.pool, this.routeId, 'budget')).inc();
  }
}
