// Load shedding. Two cheap checks before any routing work: the process's concurrent request count
// against `maxConcurrentRequests`, and the recent event-loop delay against `maxEventLoopDelayMs`.
// The delay is sampled by perf_hooks' histogram and read every SAMPLE_MS (p99 of that window), so the
// request path only compares two numbers. Shed answers are 503 + Retry-After (gRPC:
// RESOURCE_EXHAUSTED); the admin server is a separate listener and keeps answering probes.

import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { Errors, type ProxyError } from './errors.ts';
import type { DataplaneMetrics } from './metrics.ts';

const SAMPLE_MS = 250;
const RESOLUTION_MS = 10;

export class OverloadGuard {
  /** requests being proxied right now (incremented at start, decremented at completion) */
  active = 0;
  /** p99 event-loop delay of the last window, ms */
  lagMs = 0;
  maxConcurrent = 10000;
  maxLagMs = 200;
  private readonly hist: IntervalHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();

  constructor(private readonly metrics: DataplaneMetrics) {
    this.hist = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.hist.enable();
    this.timer = setInterval(sampleLag, SAMPLE_MS, this);
    this.timer.unref();
  }

  /** null when the request may proceed; the shedding error otherwise (counted). */
  admit(): ProxyError | null {
    if (this.active >= this.maxConcurrent) return this.shed(Errors.overloaded);
    if (this.lagMs > this.maxLagMs) return this.shed(Errors.eventLoopLag);
    return null;
  }

  private shed(err: ProxyError): ProxyError {
    this.metrics.shed.labels(this.metrics.pool, err.reason).inc();
    return err;
  }

  sample(): void {
    const h = this.hist;
    const now = performance.now();
    // this sampler's own lateness is delay too: a block that ends just before this tick has not
    // been recorded by the histogram's timer yet, and reset() below would lose it
    const late = now - this.lastTick - SAMPLE_MS;
    this.lastTick = now;
    // the histogram measures timer periods, so the sampling resolution itself is not delay
    const p99 = h.count > 0 ? h.percentile(99) / 1e6 - RESOLUTION_MS : 0;
    this.lagMs = Math.max(0, p99, late);
    h.reset();
    this.metrics.eventLoopLag.labels(this.metrics.pool).set(this.lagMs / 1000);
  }

  close(): void {
    clearInterval(this.timer);
    this.hist.disable();
  }
}

function sampleLag(g: OverloadGuard): void {
  g.sample();
}
