// HorizontalPodAutoscaler behaviour and the PodDisruptionBudget choice.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { only, poolInfra, synth, workload } from './pool.ts';

const hpa = {
  minReplicas: 3,
  maxReplicas: 30,
  targetCPUUtilizationPercentage: 65,
  scaleDownStabilizationSeconds: 420,
};

test('hpa: autoscaling/v2 on CPU utilization with the pool bounds', () => {
  const h = only(synth(poolInfra((p) => (p.autoscaling = hpa))), 'HorizontalPodAutoscaler');
  assert.is(h.apiVersion, 'autoscaling/v2');
  assert.equal([h.spec.minReplicas, h.spec.maxReplicas], [3, 30]);
  assert.equal(h.spec.metrics, [
    { resource: { name: 'cpu', target: { averageUtilization: 65, type: 'Utilization' } }, type: 'Resource' },
  ]);
});

test('hpa: immediate, fast scale-up; slow scale-down after the pool stabilization window', () => {
  const b = only(synth(poolInfra((p) => (p.autoscaling = hpa))), 'HorizontalPodAutoscaler').spec.behavior;
  assert.is(b.scaleUp.stabilizationWindowSeconds, 0);
  assert.is(b.scaleUp.selectPolicy, 'Max');
  assert.ok(
    b.scaleUp.policies.some((x: any) => x.type === 'Percent' && x.value >= 100 && x.periodSeconds <= 15),
  );
  assert.ok(b.scaleUp.policies.some((x: any) => x.type === 'Pods' && x.value >= 4 && x.periodSeconds <= 15));
  assert.is(b.scaleDown.stabilizationWindowSeconds, 420);
  for (const x of b.scaleDown.policies) {
    // gentler than scale-up in both step and period
    assert.ok(x.periodSeconds >= 60, 'scale-down steps at most once a minute');
    assert.ok(x.type === 'Pods' ? x.value <= 1 : x.value <= 10, `small step ${x.type}=${x.value}`);
  }
});

test('hpa: absent without autoscaling', () => {
  assert.not.ok(synth(poolInfra()).some((o) => o.kind === 'HorizontalPodAutoscaler'));
});

test('pdb: maxUnavailable 1 with the workload selector, also for a single replica', () => {
  for (const replicas of [1, 4]) {
    const objects = synth(poolInfra((p) => (p.replicas = replicas)));
    const pdb = only(objects, 'PodDisruptionBudget');
    assert.is(pdb.apiVersion, 'policy/v1');
    assert.is(pdb.spec.maxUnavailable, 1);
    assert.not.ok('minAvailable' in pdb.spec, 'minAvailable would block drains of a 1-replica pool');
    assert.equal(pdb.spec.selector, workload(objects).spec.selector);
  }
});

test.run();
