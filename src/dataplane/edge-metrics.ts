// Metrics of the edge-security features: TLS handshakes (by result and reason), authentication
// decisions (by route, kind, result and reason) and the external auth service's latency. Registered
// on a data plane's own registry the first time a feature asks for them, so data planes without TLS
// or auth export nothing extra.

import { Counter, Histogram } from 'prom-client';
import type { DataplaneMetrics } from './metrics.ts';

export class EdgeMetrics {
  readonly handshakes: Counter<'pool' | 'result' | 'reason'>;
  readonly auth: Counter<'pool' | 'route' | 'kind' | 'result' | 'reason'>;
  readonly authServiceSeconds: Histogram<'pool' | 'route'>;

  constructor(readonly m: DataplaneMetrics) {
    const registers = [m.registry];
    this.handshakes = new Counter({
      name: 'bulkhead_tls_handshakes_total',
      help: 'TLS handshakes on the HTTPS listener: result ok|failed, reason of a failure',
      labelNames: ['pool', 'result', 'reason'] as const,
      registers,
    });
    this.auth = new Counter({
      name: 'bulkhead_auth_decisions_total',
      help: 'Route authentication decisions: kind jwt|external, result allowed|denied, reason',
      labelNames: ['pool', 'route', 'kind', 'result', 'reason'] as const,
      registers,
    });
    this.authServiceSeconds = new Histogram({
      name: 'bulkhead_auth_service_duration_seconds',
      help: 'Latency of external auth subrequests (errors and timeouts included)',
      labelNames: ['pool', 'route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }

  handshake(ok: boolean, reason: string): void {
    this.handshakes.labels(this.m.pool, ok ? 'ok' : 'failed', reason).inc();
  }
}

const byRegistry = new WeakMap<DataplaneMetrics, EdgeMetrics>();

export function edgeMetrics(m: DataplaneMetrics): EdgeMetrics {
  let e = byRegistry.get(m);
  if (e === undefined) byRegistry.set(m, (e = new EdgeMetrics(m)));
  return e;
}
