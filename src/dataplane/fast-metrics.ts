// The two metrics every request touches, without prom-client's per-call work. A prom-client label
// child still validates and hashes its label set on every `inc()` / `observe()` (2–3 % of the
// proxy's CPU at full load); here a request does a plain addition, and prom-client sees the numbers
// when /metrics is scraped:
//   DeferredCounters  a counter child's increments accumulate in a number and are added to the
//                     child (its public `inc`) by the counter's `collect` hook, just before a scrape
//   FastHistogram     a histogram kept in typed arrays that implements the registry's metric
//                     contract itself (`get()` with the same series prom-client's Histogram gives,
//                     and `aggregator: 'sum'` so worker processes merge as before)

import type { Counter, Registry } from 'prom-client';

export class PendingCount {
  n = 0;
  constructor(readonly child: Counter.Internal) {}
}

export class DeferredCounters {
  private readonly all = new Set<PendingCount>();

  add(child: Counter.Internal): PendingCount {
    const p = new PendingCount(child);
    this.all.add(p);
    return p;
  }

  flush(): void {
    for (const p of this.all) {
      if (p.n === 0) continue;
      p.child.inc(p.n);
      p.n = 0;
    }
  }
}

export class HistogramSeries {
  /** per bucket, not cumulative; the last slot is +Inf */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();
  private readonly le: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.le = bounds.map(String);
    registry.registerMetric(this as never);
  }

  /** The series of one label set, made once and kept by the caller. */
  child(labels: Record<string, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = new HistogramSeries(labels, this.bounds)));
    return s;
  }

  get(): { name: string; help: string; type: string; values: Value[]; aggregator: string } {
    const values: Value[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({
          labels: { le: i < this.le.length ? this.le[i]! : '+Inf', ...s.labels },
          value: acc,
          metricName: this.name + '_bucket',
        });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: this.name + '_sum' });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: this.name + '_count' });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }
}
