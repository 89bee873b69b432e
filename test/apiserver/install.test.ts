// dist/install.yaml: current with cdk8s/, least-privilege RBAC, and installable on a real
// kube-apiserver (CRDs keep their field names, the operator's pod passes restricted Pod Security,
// the service account can do what the operator needs and nothing more, and the operator, running
// with a token of that service account, reconciles the examples).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { installManifests, installYaml } from '../../cdk8s/main.ts';
import { INSTALL_PATH } from '../../scripts/gen-install.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { must } from './cluster.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startOperator } from '../../src/operator/index.ts';
import { IMAGE } from '../../src/version.ts';
import {
  applyDocs,
  endpointSlicesFor,
  exampleDocs,
  getJson,
  silentLogger,
  waitFor,
} from '../operator/cluster-fixtures.ts';

let cluster: TestCluster;
const objects = installManifests();
const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
const SA = 'system:serviceaccount:bulkhead-system:bulkhead-operator';

test('dist/install.yaml is current (regenerate: node --import tsx scripts/gen-install.ts)', () => {
  assert.ok(readFileSync(INSTALL_PATH, 'utf8') === installYaml(), 'dist/install.yaml is stale');
});

test('install.yaml reads back (as YAML 1.1, like kubectl) to exactly the synthesized objects', () => {
  const docs = parseAllDocuments(readFileSync(INSTALL_PATH, 'utf8'), { version: '1.1' }).map((d) => d.toJS());
  assert.equal(docs, JSON.parse(JSON.stringify(objects)));
});

test('contents: namespace, 3 CRDs, RBAC, three Services (webhook, config stream, metrics), a 2-replica Deployment, the webhook configuration', () => {
  assert.equal(
    objects.map((o) => o.kind),
    [
      'Namespace',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Service',
      'Service',
      'Service',
      'Deployment',
      'PodDisruptionBudget',
      'ValidatingWebhookConfiguration',
    ],
  );
  const dep = byKind('Deployment')[0];
  assert.is(dep.spec.replicas, 2);
  const c = dep.spec.template.spec.containers[0];
  assert.is(c.image, IMAGE);
  assert.is(
    IMAGE,
    `ghcr.io/bulkhead-dev/bulkhead:${JSON.parse(readFileSync('package.json', 'utf8')).version}`,
  );
  assert.ok(c.env.some((e: any) => e.name === 'BULKHEAD_IMAGE' && e.value === IMAGE));
  assert.equal(c.args.slice(0, 4), ['operator', '--leader-elect', '--metrics-addr', ':8081']);
  assert.is(c.livenessProbe.httpGet.port, 'metrics');
  assert.is(c.readinessProbe.httpGet.port, 'metrics');
  const w = byKind('ValidatingWebhookConfiguration')[0].webhooks[0];
  assert.is(w.failurePolicy, 'Ignore');
  assert.equal(w.clientConfig.service, {
    namespace: 'bulkhead-system',
    name: 'bulkhead-webhook',
    path: '/validate',
    port: 443,
  });
  for (const o of objects) {
    const clusterScoped = [
      'Namespace',
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingWebhookConfiguration',
    ].includes(o.kind);
    assert.is(
      o.metadata.namespace,
      clusterScoped ? undefined : 'bulkhead-system',
      `${o.kind}/${o.metadata.name}`,
    );
  }
});

test('RBAC is least privilege: no wildcards, the three kinds read-only, no cluster-wide write to workloads or Secrets, Leases only in bulkhead-system', () => {
  const rules = byKind('ClusterRole').find((r) => r.metadata.name === 'bulkhead-operator').rules;
  for (const r of rules) {
    if (r.resources.some((x: string) => ['events', 'validatingwebhookconfigurations'].includes(x))) continue;
    if (r.resources.every((x: string) => x.endsWith('/status'))) continue;
    assert.equal(r.verbs, ['get', 'list', 'watch'], `cluster-wide rule is read-only: ${JSON.stringify(r)}`);
    assert.not.ok(r.resources.includes('secrets'), 'no cluster-wide Secret access');
  }
  // write access to pool objects is a ClusterRole bound per pool namespace, never cluster-wide
  const bindings = byKind('ClusterRoleBinding');
  assert.equal(
    bindings.map((b) => b.roleRef.name),
    ['bulkhead-operator'],
  );
  const pool = byKind('ClusterRole').find((r) => r.metadata.name === 'bulkhead-operator-pool');
  assert.ok(pool.rules.every((r: any) => !r.verbs.includes('list') && !r.verbs.includes('watch')));
  for (const r of rules) {
    for (const field of ['apiGroups', 'resources', 'verbs'])
      assert.not.ok(r[field].includes('*'), JSON.stringify(r));
  }
  const kinds = rules.find(
    (r: any) => r.apiGroups.includes('bulkhead.dev') && r.resources.includes('routesplits'),
  );
  assert.equal(kinds.verbs, ['get', 'list', 'watch']);
  assert.not.ok(rules.some((r: any) => r.resources.includes('leases')));
  const role = byKind('Role')[0];
  assert.is(role.metadata.namespace, 'bulkhead-system');
  assert.equal(
    role.rules.map((r: any) => r.resources),
    [['leases'], ['secrets']],
  );
});

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: a cluster with dist/install.yaml applied', async () => {
  cluster = await startTestCluster();
  const r = await must(cluster.kubectl(['apply', '-f', INSTALL_PATH]), 'kubectl apply -f dist/install.yaml');
  assert.is(r.stdout.trim().split('\n').length, objects.length, r.stdout);
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
});

test.after(async () => {
  await cluster?.stop();
});

test('the CRDs from install.yaml keep retries.on (quoted for YAML 1.1 readers)', async () => {
  const r = await must(cluster.kubectl(['get', 'crd', 'ingresspools.bulkhead.dev', '-o', 'json']), 'get crd');
  const retries = JSON.parse(r.stdout).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties
    .retries;
  assert.ok('on' in retries.properties, Object.keys(retries.properties).join(', '));
});

test('the operator pod passes restricted Pod Security in bulkhead-system', async () => {
  const template = byKind('Deployment')[0].spec.template;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'pss-check', namespace: 'bulkhead-system', labels: template.metadata.labels },
    spec: template.spec,
  };
  const r = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
  assert.is(r.code, 0, r.stderr);
  assert.not.match(r.stderr, /would violate PodSecurity/);
  const bad = structuredClone(pod);
  bad.spec.containers[0].securityContext = { privileged: true };
  const rejected = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(bad));
  assert.match(rejected.stderr, /violates PodSecurity "restricted/, 'the namespace must enforce restricted');
});

test('setup: the examples, with their per-pool-namespace RoleBindings', async () => {
  const docs = exampleDocs();
  await applyDocs(cluster, docs);
  await applyDocs(cluster, endpointSlicesFor(docs.filter((d) => d.kind === 'Service')));
});

test('the operator service account can do its job and no more (kubectl auth can-i)', async () => {
  const can = async (args: string[]) =>
    (await cluster.kubectl(['auth', 'can-i', '--as', SA, ...args])).stdout.trim();
  const yes = [
    ['watch', 'routesplits.bulkhead.dev', '-A'],
    ['patch', 'ingresspools.bulkhead.dev', '--subresource=status', '-n', 'team-a'],
    ['list', 'endpointslices.discovery.k8s.io', '-A'],
    ['create', 'deployments.apps', '-n', 'edge-storefront'],
    ['delete', 'horizontalpodautoscalers.autoscaling', '-n', 'edge-storefront'],
    ['create', 'secrets', '-n', 'edge-payments'],
    ['list', 'deployments.apps', '-A'],
    ['update', 'leases.coordination.k8s.io', '-n', 'bulkhead-system'],
    ['create', 'secrets', '-n', 'bulkhead-system'],
    ['create', 'events', '-n', 'edge-storefront'],
    ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/bulkhead'],
  ];
  const no = [
    ['update', 'routesplits.bulkhead.dev', '-n', 'team-a'],
    ['update', 'routesplits.bulkhead.dev', '--subresource=finalizers', '-n', 'team-a'],
    ['delete', 'ingresspools.bulkhead.dev', '-n', 'team-a'],
    ['create', 'leases.coordination.k8s.io', '-n', 'default'],
    ['create', 'pods', '-n', 'default'],
    ['delete', 'namespaces'],
    ['patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/someone-else'],
    ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
    // no write outside pool namespaces, no Secret outside pool namespaces and its own
    ['create', 'deployments.apps', '-n', 'default'],
    ['delete', 'services', '-n', 'storefront'],
    ['create', 'configmaps', '-n', 'kube-system'],
    ['delete', 'daemonsets.apps', '-n', 'kube-system'],
    ['get', 'secrets', '-n', 'storefront'],
    ['list', 'secrets', '-A'],
    ['create', 'secrets', '-n', 'default'],
    ['create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'edge-storefront'],
  ];
  for (const a of yes) assert.is(await can(a), 'yes', `should be allowed: ${a.join(' ')}`);
  for (const a of no) assert.is(await can(a), 'no', `should be denied: ${a.join(' ')}`);
});

test('the operator reconciles the examples with only these permissions (a ServiceAccount token)', async () => {
  const token = (
    await must(
      cluster.kubectl(['create', 'token', 'bulkhead-operator', '-n', 'bulkhead-system', '--duration=1h']),
      'kubectl create token',
    )
  ).stdout.trim();
  const admin = JSON.parse(readFileSync(cluster.kubeconfigPath, 'utf8'));
  admin.users = admin.users.map((u: any) => ({ ...u, user: { token } }));
  const kubeconfig = join(cluster.tmpDir, 'operator-sa-kubeconfig');
  await writeFile(kubeconfig, JSON.stringify(admin), { mode: 0o600 });
  const op = await startOperator({
    kubeconfig,
    metricsAddr: false,
    image: 'registry.example/bulkhead:own',
    logger: silentLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 300,
  });
  try {
    for (const [ns, name] of [
      ['edge-storefront', 'storefront'],
      ['edge-payments', 'payments'],
      ['edge-realtime', 'realtime'],
    ]) {
      const p = await waitFor(`pool ${ns}/${name} reconciled`, async () => {
        const o = await getJson(cluster, ['ingresspool', name!, '-n', ns!]);
        return o.status?.configVersion ? o : false;
      });
      assert.is(p.status.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
      const owned = await getJson(cluster, [
        'deployments,daemonsets,configmaps,services',
        '-n',
        ns!,
        '-l',
        `bulkhead.dev/pool=${name}`,
      ]);
      assert.ok(owned.items.length >= 3, `${ns}: ${owned.items.map((o: any) => o.kind).join(',')}`);
      // the examples leave spec.deployment.image empty: the pool runs the operator's own image
      const dep = owned.items.find((o: any) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
      assert.is(dep.spec.template.spec.containers[0].image, 'registry.example/bulkhead:own');
    }
    const route = await getJson(cluster, ['routesplit', 'shop', '-n', 'storefront']);
    assert.is(route.status.conditions.find((c: any) => c.type === 'Accepted').status, 'True');
  } finally {
    await op.stop();
  }
});

test.run();
