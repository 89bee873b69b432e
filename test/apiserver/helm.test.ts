// The Helm chart (dist/helm/bulkhead, synthesized from the cdk8s app): current with cdk8s/, its
// default rendering is exactly dist/install.yaml's objects, its values change what they promise, and
// `helm template` output applies to a real API server where the operator, running with the chart's
// ServiceAccount permissions, reconciles the examples. helm is built by scripts/setup-k8s-tools.sh.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { homedir } from 'node:os';
import { parseAllDocuments } from 'yaml';
import { helmChartFiles } from '../../cdk8s/helm-chart.ts';
import { installManifests } from '../../cdk8s/main.ts';
import { HELM_CHART_DIR } from '../../scripts/gen-install.ts';
import { startOperator } from '../../src/operator/index.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import {
  applyDocs,
  endpointSlicesFor,
  exampleDocs,
  getJson,
  silentLogger,
  waitFor,
} from '../operator/cluster-fixtures.ts';
import { must } from './cluster.ts';

const HELM = join(process.env.BULKHEAD_CACHE ?? join(homedir(), '.cache', 'bulkhead'), 'bin', 'helm');
let cluster: TestCluster;

function helmTemplate(args: string[] = []): any[] {
  assert.ok(existsSync(HELM), `no helm at ${HELM}: run bash scripts/setup-k8s-tools.sh`);
  const r = spawnSync(HELM, ['template', 'bulkhead', HELM_CHART_DIR, '--include-crds', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.is(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout, { version: '1.1' })
    .map((d) => d.toJS())
    .filter((o) => o);
}

const byKey = (objs: any[]) =>
  new Map(objs.map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

test('dist/helm/bulkhead is current (regenerate: node --import tsx scripts/gen-install.ts)', () => {
  const want = helmChartFiles();
  const have = filesUnder(HELM_CHART_DIR).map((p) => relative(HELM_CHART_DIR, p));
  assert.equal(have.sort(), Object.keys(want).sort());
  for (const [path, text] of Object.entries(want))
    assert.ok(readFileSync(join(HELM_CHART_DIR, path), 'utf8') === text, `${path} is stale`);
});

test('helm template with the default values renders exactly the install.yaml objects', () => {
  const rendered = byKey(helmTemplate());
  const install = byKey(JSON.parse(JSON.stringify(installManifests())));
  assert.equal([...rendered.keys()].sort(), [...install.keys()].sort());
  for (const [k, o] of install) assert.equal(rendered.get(k), o, k);
});

test('values: image, replicas, namespace, resources, webhook off, config-stream port, log level, pool namespaces', () => {
  const objs = helmTemplate([
    ...['--set', 'image=registry.example/bulkhead:test', '--set', 'replicas=1'],
    ...['--set', 'namespace=bh-ops', '--set', 'webhook.enabled=false', '--set', 'configStream.port=18443'],
    ...['--set', 'logLevel=debug', '--set', 'resources.limits.memory=2Gi'],
    ...['--set', 'poolNamespaces={edge-a,edge-b}'],
  ]);
  const kinds = objs.map((o) => o.kind);
  assert.not.ok(kinds.includes('ValidatingWebhookConfiguration'));
  assert.not.ok(objs.some((o) => o.kind === 'Service' && o.metadata.name === 'bulkhead-webhook'));
  const dep = objs.find((o) => o.kind === 'Deployment');
  assert.is(dep.metadata.namespace, 'bh-ops');
  assert.is(dep.spec.replicas, 1);
  const c = dep.spec.template.spec.containers[0];
  assert.is(c.image, 'registry.example/bulkhead:test');
  assert.ok(
    c.env.some((e: any) => e.name === 'BULKHEAD_IMAGE' && e.value === 'registry.example/bulkhead:test'),
  );
  assert.not.ok(c.args.some((a: string) => a.startsWith('--webhook')));
  assert.ok(
    c.args
      .join(' ')
      .includes('--config-stream-addr :18443 --control-plane-address bulkhead-config.bh-ops.svc:18443'),
  );
  assert.ok(c.args.join(' ').endsWith('--log-level debug'));
  assert.is(c.resources.limits.memory, '2Gi');
  assert.is(c.ports.find((p: any) => p.name === 'config-stream').containerPort, 18443);
  const stream = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'bulkhead-config');
  assert.is(stream.spec.ports[0].port, 18443);
  const pools = objs.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'bulkhead-operator-pool');
  assert.equal(
    pools.map((b) => b.metadata.namespace),
    ['edge-a', 'edge-b'],
  );
  assert.equal(pools[0].subjects, [
    { kind: 'ServiceAccount', name: 'bulkhead-operator', namespace: 'bh-ops' },
  ]);
  assert.ok(
    objs.every((o) => !o.metadata.namespace || ['bh-ops', 'edge-a', 'edge-b'].includes(o.metadata.namespace)),
  );
});

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: helm template output applies to a real API server', async () => {
  cluster = await startTestCluster();
  const pools = ['edge-storefront', 'edge-payments', 'edge-realtime'];
  const objs = helmTemplate(['--set', `poolNamespaces={${pools.join(',')}}`]);
  // the pool namespaces come with the examples; the chart's own objects first
  const [own, bindings] = [
    objs.filter((o) => !(o.kind === 'RoleBinding' && pools.includes(o.metadata.namespace))),
    objs.filter((o) => o.kind === 'RoleBinding' && pools.includes(o.metadata.namespace)),
  ];
  await must(
    cluster.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: own })),
    'apply chart',
  );
  await must(
    cluster.kubectl([
      'wait',
      '--for=condition=Established',
      'crd',
      '-l',
      'app.kubernetes.io/part-of=bulkhead',
      '--timeout=60s',
    ]),
    'CRDs Established',
  );
  const docs = exampleDocs().filter((d) => d.kind !== 'RoleBinding');
  await applyDocs(cluster, docs);
  await applyDocs(cluster, endpointSlicesFor(docs.filter((d) => d.kind === 'Service')));
  await applyDocs(cluster, bindings);
});

test.after(async () => {
  await cluster?.stop();
});

test("the operator, with the chart's ServiceAccount token, reconciles the examples", async () => {
  const token = (
    await must(
      cluster.kubectl(['create', 'token', 'bulkhead-operator', '-n', 'bulkhead-system']),
      'create token',
    )
  ).stdout.trim();
  const kc = JSON.parse(readFileSync(cluster.kubeconfigPath, 'utf8'));
  kc.users = kc.users.map((u: any) => ({ ...u, user: { token } }));
  const kubeconfig = join(cluster.tmpDir, 'chart-sa-kubeconfig');
  await writeFile(kubeconfig, JSON.stringify(kc), { mode: 0o600 });
  const op = await startOperator({
    kubeconfig,
    metricsAddr: false,
    logger: silentLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 300,
  });
  try {
    for (const [ns, name] of [
      ['edge-storefront', 'storefront'],
      ['edge-payments', 'payments'],
      ['edge-realtime', 'realtime'],
    ] as const) {
      const p = await waitFor(`pool ${ns}/${name} reconciled`, async () => {
        const o = await getJson(cluster, ['ingresspool', name, '-n', ns]);
        return o.status?.configVersion ? o : false;
      });
      assert.is(p.status.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
    }
    const wait = await cluster.kubectl([
      'wait',
      '--for=condition=Accepted',
      'routesplit/shop',
      '-n',
      'storefront',
      '--timeout=30s',
    ]);
    assert.is(wait.code, 0, wait.stderr);
  } finally {
    await op.stop();
  }
});

test.run();
