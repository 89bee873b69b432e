// Prometheus metrics of one data-plane process. Each Dataplane owns its own Registry (tests run many
// in one process; workers hand theirs to the primary's AggregatorRegistry). The hot path never builds
// a label set: route contexts cache their children (see RouteMetrics), built once per snapshot.
// Every series also carries `product_line` (the pool's spec.productLine) as a registry default label,
// added at scrape time, not per request: multi-team clusters charge back and alert by product line,
// which may span several pools, without a Prometheus relabel rule per pool.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ConnProtocol = 'http1' | 'h2' | 'websocket';

export class DataplaneMetrics {
  readonly registry = new Registry();
  pool = '';
  readonly requests = new Counter({
    name: 'bulkhead_requests_total',
    help: 'Requests answered, by route, backend cluster and status class',
    labelNames: ['pool', 'route', 'cluster', 'code_class'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'bulkhead_request_duration_seconds',
    help: 'Time from request start to the end of the response',
    labelNames: ['pool', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
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
  readonly eventLoopLag = new Gauge({
    name: 'bulkhead_event_loop_lag_seconds',
    help: 'Recent event loop delay (p99 of the last sampling window)',
    labelNames: ['pool'] as const,
    aggregator: 'max',
    registers: [this.registry],
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

const CODE_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

/** Label children of one route, created lazily and kept for the snapshot's lifetime. */
export class RouteMetrics {
  readonly duration: Histogram.Internal<'pool' | 'route'>;
  private readonly byCluster = new Map<string, (Counter.Internal | undefined)[]>();
  private retryChild: Counter.Internal | null = null;
  private budgetChild: Counter.Internal | null = null;

  constructor(
    private readonly m: DataplaneMetrics,
    readonly routeId: string,
  ) {
    this.duration = m.duration.labels(m.pool, routeId);
  }

  request(cluster: string, status: number): void {
    let row = this.byCluster.get(cluster);
    if (row === undefined)
      this.byCluster.set(cluster, (row = [undefined, undefined, undefined, undefined, undefined]));
    let idx = ((status / 100) | 0) - 1;
    if (idx < 0 || idx > 4) idx = 4;
    let child = row[idx];
    if (child === undefined)
      child = row[idx] = this.m.requests.labels(this.m.pool, this.routeId, cluster, CODE_CLASSES[idx]!);
    child.inc();
  }

  retry(started: boolean): void {
    if (started) (this.retryChild ??= this.m.retries.labels(this.m.pool, this.routeId, 'started')).inc();
    else (this.budgetChild ??= this.m.retries.labels(this.m.pool, this.routeId, 'budget')).inc();
  }
}
