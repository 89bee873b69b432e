// Names, labels, owner references, apply order and determinism: the parts of the output that
// must not drift, because selectors are immutable and names are how objects are found again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { synthesize, APPLY_ORDER } from '../../src/synth/index.ts';
import { only, poolInfra, synth, workload } from './pool.ts';

const SELECTOR = {
  'app.kubernetes.io/instance': 'storefront',
  'app.kubernetes.io/name': 'bulkhead-dataplane',
  'bulkhead.dev/pool': 'storefront',
};

function selectors(objects: ReturnType<typeof synth>): unknown[] {
  const out: unknown[] = [workload(objects).spec.selector.matchLabels];
  for (const o of objects as any[]) {
    if (o.kind === 'Service') out.push(o.spec.selector);
    if (o.kind === 'PodDisruptionBudget') out.push(o.spec.selector.matchLabels);
  }
  return out;
}

test('selectors: only the three stable labels, identical across unrelated changes', () => {
  const variants = [
    poolInfra(),
    poolInfra((p) => (p.pool.productLine = 'checkout')),
    poolInfra((p) => ((p.deployment.image = 'registry.example/bh:9.9.9'), (p.replicas = 7))),
    poolInfra(
      (p) =>
        (p.autoscaling = {
          minReplicas: 1,
          maxReplicas: 3,
          targetCPUUtilizationPercentage: 50,
          scaleDownStabilizationSeconds: 60,
        }),
    ),
    poolInfra(
      (p) => ((p.listener.port = 9000), (p.deployment.resources = { requests: { cpu: '1' }, limits: {} })),
    ),
    poolInfra((p) => (p.pool.uid = '')),
    poolInfra((p) => ((p.deployment.mode = 'DaemonSet'), (p.deployment.hostNetwork = true))),
  ];
  for (const infra of variants) {
    for (const s of selectors(synth(infra))) assert.equal(s, SELECTOR);
  }
});

test('labels: every object and the pod template carry pool and product-line labels', () => {
  const objects = synth(poolInfra((p) => (p.pool.productLine = 'checkout')));
  const templ = workload(objects).spec.template.metadata.labels;
  for (const labels of [...objects.map((o) => o.metadata.labels), templ]) {
    assert.equal(labels, {
      ...SELECTOR,
      'app.kubernetes.io/managed-by': 'bulkhead',
      'bulkhead.dev/product-line': 'checkout',
    });
  }
});

test('names: bulkhead-<pool> and bulkhead-<pool>-<suffix>, all in the pool namespace', () => {
  const objects = synth(
    poolInfra(
      (p) =>
        (p.autoscaling = {
          minReplicas: 2,
          maxReplicas: 4,
          targetCPUUtilizationPercentage: 60,
          scaleDownStabilizationSeconds: 300,
        }),
    ),
  );
  assert.equal(
    objects.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ServiceAccount/bulkhead-storefront',
      'ConfigMap/bulkhead-storefront-bootstrap',
      'Service/bulkhead-storefront',
      'Service/bulkhead-storefront-admin',
      'Deployment/bulkhead-storefront',
      'HorizontalPodAutoscaler/bulkhead-storefront',
      'PodDisruptionBudget/bulkhead-storefront',
    ],
  );
  for (const o of objects) assert.is(o.metadata.namespace, 'edge-storefront');
  assert.is(workload(objects).spec.template.spec.serviceAccountName, 'bulkhead-storefront');
});

test('apply order: kinds appear in APPLY_ORDER', () => {
  const objects = synth(
    poolInfra(
      (p) =>
        (p.autoscaling = {
          minReplicas: 2,
          maxReplicas: 4,
          targetCPUUtilizationPercentage: 60,
          scaleDownStabilizationSeconds: 300,
        }),
    ),
  );
  const ranks = objects.map((o) => (APPLY_ORDER as readonly string[]).indexOf(o.kind));
  assert.ok(
    ranks.every((r) => r >= 0),
    'every kind is known',
  );
  assert.equal(
    ranks,
    [...ranks].sort((a, b) => a - b),
  );
});

test('owner references: to the IngressPool on every object when the uid is known', () => {
  const objects = synth(poolInfra((p) => (p.pool.uid = 'uid-42')));
  for (const o of objects) {
    assert.equal(
      o.metadata.ownerReferences,
      [
        {
          apiVersion: 'bulkhead.dev/v1alpha1',
          blockOwnerDeletion: true,
          controller: true,
          kind: 'IngressPool',
          name: 'storefront',
          uid: 'uid-42',
        },
      ],
      `${o.kind}/${o.metadata.name}`,
    );
  }
  for (const o of synth(poolInfra((p) => (p.pool.uid = '')))) {
    assert.not.ok('ownerReferences' in o.metadata, `${o.kind} unowned offline`);
  }
});

test('bootstrap ConfigMap: the snapshot under snapshot.json, the version as an annotation', () => {
  const cm = only(
    synth(poolInfra((p) => ((p.bootstrapSnapshot = '{"a":1}'), (p.snapshotVersion = 'sha256:beef')))),
    'ConfigMap',
  );
  assert.equal(cm.data, { 'snapshot.json': '{"a":1}' });
  assert.is(cm.metadata.annotations['bulkhead.dev/snapshot-version'], 'sha256:beef');
});

test('determinism: same input, identical JSON; key order does not depend on CDK8S_DISABLE_SORT', () => {
  const infra = poolInfra(
    (p) => ((p.kernel.enabled = true), (p.deployment.tolerations = [{ operator: 'Exists' }])),
  );
  const opts = { controlPlaneAddress: 'op:9443' };
  const a = JSON.stringify(synthesize(infra, opts));
  const b = JSON.stringify(synthesize(structuredClone(infra), opts));
  assert.is(a, b);
  const before = process.env.CDK8S_DISABLE_SORT;
  process.env.CDK8S_DISABLE_SORT = '1';
  try {
    assert.is(JSON.stringify(synthesize(infra, opts)), a);
  } finally {
    if (before === undefined) delete process.env.CDK8S_DISABLE_SORT;
    else process.env.CDK8S_DISABLE_SORT = before;
  }
  assert.not.ok(a.includes('cdk8s.io/metadata.addr'), 'no cdk8s construct-address label');
});

test('purity: the input is not modified', () => {
  const infra = poolInfra((p) => (p.deployment.tolerations = [{ key: 'k', operator: 'Equal', value: '' }]));
  const copy = structuredClone(infra);
  synthesize(infra);
  assert.equal(infra, copy);
});

test.run();
