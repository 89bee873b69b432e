// Every synthesized object validates offline against the Kubernetes OpenAPI schemas
// (kubernetes-models) and contains no field Kubernetes does not define (client-node models).
// Both checks are first shown to reject a broken object, so a silently disabled validator
// cannot make this suite pass.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { synthesize } from '../../src/synth/index.ts';
import type { KubeObject } from '../../src/synth/index.ts';
import { caseNames, loadCase } from './cases.ts';
import { ROOT_TYPES, unknownFields } from './strict-fields.ts';

type Validatable = { validate(): void };
const MODELS: Record<string, (o: KubeObject) => Validatable> = {
  'v1/ServiceAccount': (o) => new ServiceAccount(o as never),
  'v1/ConfigMap': (o) => new ConfigMap(o as never),
  'v1/Service': (o) => new Service(o as never),
  'apps/v1/Deployment': (o) => new Deployment(o as never),
  'apps/v1/DaemonSet': (o) => new DaemonSet(o as never),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o as never),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o as never),
};

const gvk = (o: KubeObject): string => `${o.apiVersion}/${o.kind}`;

function validate(o: KubeObject): void {
  const make = MODELS[gvk(o)];
  if (!make) throw new Error(`no schema for ${gvk(o)}`);
  make(structuredClone(o)).validate();
}

function defaultDeployment(): KubeObject {
  const c = loadCase('default-deployment');
  const d = synthesize(c.infra, c.options).find((o) => o.kind === 'Deployment');
  assert.ok(d, 'default case has a Deployment');
  return structuredClone(d);
}

test('schema: the validator is live (a broken Deployment fails)', () => {
  const ok = defaultDeployment();
  validate(ok); // the unbroken original passes
  const broken = defaultDeployment() as any;
  broken.spec.replicas = 'two';
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  delete broken.spec.selector;
  assert.throws(() => validate(broken), /replicas|containerPort|selector/);
});

test('schema: the unknown-field check is live (a misspelt field is found)', () => {
  const broken = defaultDeployment() as any;
  broken.spec.template.spec.containers[0].readinesProbe =
    broken.spec.template.spec.containers[0].readinessProbe;
  broken.spec.template.spec.securityContext.seccomp = { type: 'RuntimeDefault' };
  assert.equal(unknownFields(broken, 'V1Deployment').sort(), [
    '/spec/template/spec/containers/0/readinesProbe',
    '/spec/template/spec/securityContext/seccomp',
  ]);
});

test('schema: every kind the synthesizer emits has a validator', () => {
  assert.equal(Object.keys(MODELS).sort(), Object.keys(ROOT_TYPES).sort());
});

for (const name of caseNames()) {
  test(`schema: ${name} validates and has no unknown fields`, () => {
    const c = loadCase(name);
    const objects = synthesize(c.infra, c.options);
    assert.ok(objects.length >= 5, 'a pool has at least SA, ConfigMap, 2 Services and a workload');
    for (const o of objects) {
      const where = `${gvk(o)} ${o.metadata.name}`;
      try {
        validate(o);
      } catch (e) {
        assert.unreachable(`${where}: ${(e as Error).message}`);
      }
      const rootType = ROOT_TYPES[gvk(o)];
      assert.ok(rootType, `${where}: no client-node root type`);
      assert.equal(unknownFields(o, rootType!), [], `${where}: fields unknown to Kubernetes`);
    }
  });
}

test.run();
