// The shipped Grafana dashboard and PrometheusRule parse, and every bulkhead_* metric they query is
// one the data plane actually exports, with the labels their selectors name (so a renamed metric or
// label cannot silently blank a panel or an alert).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DataplaneMetrics } from '../../src/dataplane/metrics.ts';
import { rateLimitMetrics } from '../../src/dataplane/ratelimit/metrics.ts';

const base = new DataplaneMetrics(false);
rateLimitMetrics(base); // registered on the first rate-limited snapshot
const registry = base.registry;
const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));

/** `metric{label="v",other=~"x"}` selectors whose label is not one of the metric's (le for buckets) */
function unknownLabels(text: string): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(/\b(bulkhead_[a-z_]+)\{([^}]*)\}/g)) {
    const name = m[1]!.replace(/_(bucket|count|sum)$/, '');
    const metric = registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined;
    const known = new Set([...(metric?.labelNames ?? []), 'le']);
    for (const l of m[2]!.matchAll(/([a-z_]+)\s*(=~|!~|!=|=)/g))
      if (!known.has(l[1]!)) bad.push(`${m[1]}: ${l[1]}`);
  }
  return bad;
}

function referenced(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\bbulkhead_[a-z_]+/g)) names.add(m[0].replace(/_(bucket|count|sum)$/, ''));
  return [...names];
}

test('Grafana dashboard: valid JSON, every queried metric exists', () => {
  const text = readFileSync('examples/observability/grafana-dashboard.json', 'utf8');
  const dash = JSON.parse(text) as { panels: { targets: { expr: string }[] }[] };
  assert.ok(dash.panels.length >= 10);
  const names = referenced(dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n'));
  assert.ok(names.length >= 9, names.join(','));
  for (const n of names) assert.ok(exported.has(n), `dashboard queries unknown metric ${n}`);
  assert.equal(unknownLabels(text), [], 'labels the dashboard selects on');
  assert.match(text, /grpc_status/, 'a panel shows gRPC statuses');
});

test('PrometheusRule: valid YAML, every alert has expr and summary, metrics exist', () => {
  const rule = parse(readFileSync('examples/observability/prometheus-rules.yaml', 'utf8')) as {
    kind: string;
    spec: { groups: { rules: { alert: string; expr: string; annotations: { summary: string } }[] }[] };
  };
  assert.is(rule.kind, 'PrometheusRule');
  const rules = rule.spec.groups.flatMap((g) => g.rules);
  assert.ok(rules.length >= 8);
  for (const r of rules) {
    assert.ok(r.alert && r.expr && r.annotations.summary, JSON.stringify(r));
    for (const n of referenced(r.expr)) assert.ok(exported.has(n), `${r.alert} uses unknown metric ${n}`);
    assert.equal(unknownLabels(r.expr), [], `${r.alert}: labels`);
  }
  assert.ok(
    rules.some((r) => /grpc_status=~"13\|14"/.test(r.expr)),
    'an alert on UNAVAILABLE/INTERNAL',
  );
});

test.run();
