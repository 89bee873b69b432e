// `bulkhead render` end to end: examples/ → manifests that validate against the Kubernetes API
// schemas offline (kubernetes-models), snapshots that the data plane's validator accepts, statuses.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments, parse } from 'yaml';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { render } from '../../src/cli/render.ts';

const MODELS: Record<string, (o: any) => { validate(): void }> = {
  'v1/ServiceAccount': (o) => new ServiceAccount(o),
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'v1/Service': (o) => new Service(o),
  'apps/v1/Deployment': (o) => new Deployment(o),
  'apps/v1/DaemonSet': (o) => new DaemonSet(o),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
};

function validateAll(objects: any[]): string[] {
  const errors: string[] = [];
  for (const o of objects) {
    const make = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!make) {
      errors.push(`no schema for ${o.apiVersion}/${o.kind}`);
      continue;
    }
    try {
      make(structuredClone(o)).validate();
    } catch (err) {
      errors.push(`${o.kind}/${o.metadata?.name}: ${(err as Error).message}`);
    }
  }
  return errors;
}

test('render -f examples/ prints manifests valid against the Kubernetes schemas', () => {
  const objects = parseAllDocuments(render(['examples'], 'manifests')).map((d) => d.toJS());
  const kinds = objects.map((o) => o.kind);
  assert.ok(kinds.filter((k) => k === 'Deployment').length === 2, 'storefront and payments are Deployments');
  assert.ok(kinds.includes('DaemonSet'), 'realtime is a DaemonSet');
  assert.ok(kinds.includes('HorizontalPodAutoscaler'), 'storefront autoscales');
  assert.equal(validateAll(objects), []);
});

test('the schema check is live: a broken Deployment is rejected', () => {
  const objects = parseAllDocuments(render(['examples'], 'manifests')).map((d) => d.toJS());
  const d = structuredClone(objects.find((o) => o.kind === 'Deployment'));
  d.spec.replicas = 'two';
  assert.is(validateAll([d]).length, 1);
});

test('render --output snapshots --pool prints the snapshot JSON the data plane loads', async () => {
  const snap = JSON.parse(render(['examples'], 'snapshots', 'edge-storefront/storefront'));
  assert.is(snap.pool.name, 'storefront');
  assert.match(snap.version, /^sha256:[0-9a-f]{64}$/);
  const { checkSnapshotShape } = await import('../../src/ir/snapshot-validate.ts');
  assert.is(checkSnapshotShape(snap), null);
  assert.not.equal(checkSnapshotShape({ ...snap, routes: 'nope' }), null);
});

test('render --output status shows every object accepted', () => {
  const status = parse(render(['examples'], 'status'));
  for (const [k, v] of Object.entries<any>(status.ingressPools)) assert.is(v.conditions[0].status, 'True', k);
  for (const [k, v] of Object.entries<any>(status.routeSplits))
    assert.is(v.parents[0].conditions[0].status, 'True', k);
  for (const [k, v] of Object.entries<any>(status.rateLimitPolicies))
    assert.is(v.conditions[0].status, 'True', k);
});

test('the CLI exits 1 with a clear message for an unknown pool', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'render',
      '-f',
      'examples',
      '-o',
      'snapshots',
      '--pool',
      'edge/none',
    ],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 1);
  assert.match(r.stderr, /no IngressPool edge\/none in the input/);
});

test.run();
