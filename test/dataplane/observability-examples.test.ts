// The shipped Grafana dashboard, PrometheusRule and Pod/ServiceMonitors parse, and every bulkhead_*
// metric they query is one the data plane or the operator actually exports (so a renamed metric
// cannot silently blank a panel or an alert); the monitors select what the install and the
// synthesizer really label and name.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { DataplaneMetrics } from '../../src/dataplane/metrics.ts';
import { rateLimitMetrics } from '../../src/dataplane/ratelimit/metrics.ts';
import { OperatorMetrics } from '../../src/operator/metrics.ts';
import { installManifests } from '../../cdk8s/main.ts';
import { DATAPLANE_APP_NAME } from '../../src/synth/identity.ts';
import { PORT_NAME_ADMIN } from '../../src/synth/service.ts';

const base = new DataplaneMetrics(false);
rateLimitMetrics(base); // registered on the first rate-limited snapshot
const registry = base.registry;
const operatorRegistry = new OperatorMetrics().registry;
const exported = new Set([
  ...(await registry.getMetricsAsJSON()).map((m) => m.name),
  ...(await operatorRegistry.getMetricsAsJSON()).map((m) => m.name),
]);

/** `metric{label="v",other=~"x"}` selectors whose label is not one of the metric's (le for buckets) */
function unknownLabels(text: string): string[] {
  const bad: string[] = [];
  for (const m of text.matchAll(/\b(bulkhead_[a-z_]+)\{([^}]*)\}/g)) {
    const name = m[1]!.replace(/_(bucket|count|sum)$/, '');
    const metric = (registry.getSingleMetric(name) ?? operatorRegistry.getSingleMetric(name)) as unknown as
      { labelNames?: string[] } | undefined;
    // product_line is a constant label added at scrape time (metrics.ts), on every data-plane series
    const known = new Set([...(metric?.labelNames ?? []), 'le', 'product_line']);
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

test('monitors: the PodMonitor selects data-plane pods by their admin port, the ServiceMonitor the operator metrics Service', () => {
  const [pod, svc] = parseAllDocuments(readFileSync('examples/observability/monitors.yaml', 'utf8')).map(
    (d) => d.toJS(),
  );
  assert.is(pod.kind, 'PodMonitor');
  assert.equal(pod.spec.selector.matchLabels, { 'app.kubernetes.io/name': DATAPLANE_APP_NAME });
  assert.is(pod.spec.podMetricsEndpoints[0].port, PORT_NAME_ADMIN);
  assert.is(svc.kind, 'ServiceMonitor');
  const metricsService = installManifests().find(
    (o) => o.kind === 'Service' && o.metadata.labels['bulkhead.dev/scrape'] === 'true',
  );
  for (const [k, v] of Object.entries(svc.spec.selector.matchLabels))
    assert.is(metricsService.metadata.labels[k], v);
  assert.ok(metricsService.spec.ports.some((p: any) => p.name === svc.spec.endpoints[0].port));
});

test.run();
