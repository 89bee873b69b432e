// The CRDs from crds/ on a real kube-apiserver: they install and become Established, every
// invalid object of test/api/invalid-cases.ts (apiServer !== false) is rejected by the schema or
// CEL with a message naming the field, and the category and short names work.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { INVALID_CASES } from '../api/invalid-cases.ts';
import { installCrds, must } from './cluster.ts';

let cluster: TestCluster;

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: a cluster with the CRDs', async () => {
  cluster = await startTestCluster();
  await installCrds(cluster);
  await must(cluster.kubectl(['create', 'namespace', 'team-a']), 'create namespace');
});

test.after(async () => {
  await cluster?.stop();
});

test('CRDs are Established with accepted names', async () => {
  const r = await must(
    cluster.kubectl(['get', 'crd', '-l', 'app.kubernetes.io/part-of=bulkhead', '-o', 'json']),
    'get crd',
  );
  const crds = JSON.parse(r.stdout).items;
  assert.equal(crds.map((c: any) => c.metadata.name).sort(), [
    'ingresspools.bulkhead.dev',
    'ratelimitpolicies.bulkhead.dev',
    'routesplits.bulkhead.dev',
  ]);
  for (const c of crds) {
    const status = (type: string) => c.status.conditions.find((x: any) => x.type === type)?.status;
    assert.is(status('Established'), 'True', c.metadata.name);
    assert.is(status('NamesAccepted'), 'True', c.metadata.name);
  }
});

test('field names survive kubectl: the stored schema has exactly the properties src/api defines', async () => {
  // kubectl reads YAML 1.1, where an unquoted key `on` is the boolean true: a CRD file that
  // writes `on:` unquoted registers a property named "true" instead of retries.on.
  const r = await must(cluster.kubectl(['get', 'crd', 'ingresspools.bulkhead.dev', '-o', 'json']), 'get crd');
  const retries = JSON.parse(r.stdout).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties
    .retries;
  const { IngressPoolSpec } = await import('../../src/api/ingresspool.ts');
  const defined = Object.keys((IngressPoolSpec as any).properties.retries.properties).sort();
  assert.ok(defined.includes('on'));
  assert.equal(Object.keys(retries.properties).sort(), defined);
});

for (const c of INVALID_CASES.filter((x) => x.apiServer !== false)) {
  test(`API server rejects: ${c.title} (${c.path})`, async () => {
    const r = await cluster.kubectl(['create', '-f', '-'], JSON.stringify(c.object));
    if (r.code === 0) await cluster.kubectl(['delete', '-f', '-'], JSON.stringify(c.object));
    assert.is.not(r.code, 0, `accepted by the API server: ${r.stdout}`);
    const out = r.stderr + r.stdout;
    assert.ok(out.includes(c.path), `kubectl output does not name ${c.path}:\n${out}`);
  });
}

test('offline-only cases are indeed accepted by schema + CEL (the webhook/compiler catch them)', async () => {
  for (const c of INVALID_CASES.filter(
    (x) => x.apiServer === false && x.object.apiVersion === 'bulkhead.dev/v1alpha1',
  )) {
    const r = await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(c.object));
    assert.is(r.code, 0, `${c.title}: ${r.stderr}`);
  }
});

test('kubectl get by plural, category and short names', async () => {
  const obj = {
    apiVersion: 'bulkhead.dev/v1alpha1',
    kind: 'IngressPool',
    metadata: { name: 'listed', namespace: 'team-a' },
    spec: { productLine: 'listing' },
  };
  await must(cluster.kubectl(['apply', '-f', '-'], JSON.stringify(obj)), 'apply pool');
  const plural = await must(
    cluster.kubectl(['get', 'ingresspools,routesplits,ratelimitpolicies', '-A']),
    'get plurals',
  );
  assert.match(plural.stdout, /listed/);
  const category = await must(cluster.kubectl(['get', 'bulkhead', '-A']), 'get bulkhead');
  assert.match(category.stdout, /ingresspool\.bulkhead\.dev\/listed/);
  assert.match(category.stdout, /PRODUCT LINE/);
  for (const short of ['ipool', 'rsplit', 'rlp'])
    await must(cluster.kubectl(['get', short, '-n', 'team-a']), `get ${short}`);
  const ipool = await must(
    cluster.kubectl(['get', 'ipool', 'listed', '-n', 'team-a', '-o', 'jsonpath={.spec.replicas}']),
    'defaults',
  );
  assert.is(ipool.stdout, '2', 'schema defaults are applied by the API server');
});

test.run();
