// Invalid PoolInfra is refused as a whole with a coded error naming the pool and the field.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { PoolInfra } from '../../src/ir/infra.ts';
import { synthesize, SynthError, BH_ERR_SYNTH_INVALID_INFRA } from '../../src/synth/index.ts';
import { MAX_BOOTSTRAP_BYTES, MAX_POOL_NAME_LENGTH } from '../../src/synth/validate.ts';
import { poolInfra } from './pool.ts';

function rejects(
  edit: (p: PoolInfra) => void,
  field: string,
  words: RegExp,
  opts?: { controlPlaneAddress?: string },
): void {
  const infra = poolInfra(edit);
  try {
    synthesize(infra, opts);
  } catch (e) {
    assert.instance(e, SynthError);
    const err = e as SynthError;
    assert.is(err.code, BH_ERR_SYNTH_INVALID_INFRA);
    assert.is(err.field, field);
    assert.is(err.pool, `${infra.pool.namespace}/${infra.pool.name}`);
    assert.ok(
      err.message.startsWith(`IngressPool/${infra.pool.namespace}/${infra.pool.name}: ${field}: `),
      err.message,
    );
    assert.match(err.message, words);
    return;
  }
  assert.unreachable(`expected a SynthError for ${field}`);
}

test('hostNetwork with mode Deployment', () => {
  rejects((p) => (p.deployment.hostNetwork = true), 'spec.deployment.hostNetwork', /DaemonSet/);
});

test('autoscaling with DaemonSet, bad bounds, no CPU request', () => {
  const hpa = {
    minReplicas: 2,
    maxReplicas: 5,
    targetCPUUtilizationPercentage: 60,
    scaleDownStabilizationSeconds: 300,
  };
  rejects((p) => ((p.deployment.mode = 'DaemonSet'), (p.autoscaling = hpa)), 'spec.autoscaling', /DaemonSet/);
  rejects(
    (p) => (p.autoscaling = { ...hpa, minReplicas: 6 }),
    'spec.autoscaling.maxReplicas',
    />= minReplicas/,
  );
  rejects((p) => (p.autoscaling = { ...hpa, minReplicas: 0 }), 'spec.autoscaling.minReplicas', />= 1/);
  rejects(
    (p) => (p.autoscaling = { ...hpa, scaleDownStabilizationSeconds: 7200 }),
    'spec.autoscaling.scaleDownStabilization',
    /3600s/,
  );
  rejects(
    (p) => ((p.autoscaling = hpa), (p.deployment.resources.requests = { memory: '1Gi' })),
    'spec.deployment.resources.requests.cpu',
    /required with autoscaling/,
  );
});

test('names and labels that would not fit Kubernetes', () => {
  rejects((p) => (p.pool.name = 'a'.repeat(MAX_POOL_NAME_LENGTH + 1)), 'metadata.name', /at most 48/);
  rejects((p) => (p.pool.name = 'Store_Front'), 'metadata.name', /DNS label/);
  rejects((p) => (p.pool.productLine = 'store front'), 'spec.productLine', /label value/);
});

test('ports: range and collisions', () => {
  rejects((p) => (p.listener.adminPort = p.listener.port), 'spec.listener.adminPort', /differ/);
  rejects((p) => (p.listener.tlsPort = 9901), 'spec.listener.tls.port', /differ/);
  rejects((p) => (p.listener.port = 70000), 'spec.listener.port', /65535/);
});

test('resources: quantities and request <= limit', () => {
  rejects(
    (p) => (p.deployment.resources.limits.memory = 'lots'),
    'spec.deployment.resources.limits.memory',
    /quantity/,
  );
  rejects(
    (p) => (p.deployment.resources.requests.cpu = '2500m'),
    'spec.deployment.resources.requests.cpu',
    /exceeds the limit 2/,
  );
  rejects(
    (p) => (p.deployment.resources.requests.memory = '2Gi'),
    'spec.deployment.resources.requests.memory',
    /exceeds/,
  );
});

test('workers, tolerations, kernel, snapshot, control plane address', () => {
  rejects((p) => (p.deployment.workers = 0), 'spec.deployment.workers', /auto/);
  rejects(
    (p) => (p.deployment.tolerations = [{ operator: 'Equal', value: 'x' }]),
    'spec.deployment.tolerations[0].operator',
    /Exists/,
  );
  rejects(
    (p) => (p.deployment.tolerations = [{ key: 'k', effect: 'NoSchedule', tolerationSeconds: 5 }]),
    'spec.deployment.tolerations[0].tolerationSeconds',
    /NoExecute/,
  );
  rejects(
    (p) => (p.kernel = { enabled: true, somaxconn: 1024, ipLocalPortRange: '60000 1024', tcpTwReuse: true }),
    'spec.kernel.ipLocalPortRange',
    /low < high/,
  );
  rejects(
    (p) => (p.bootstrapSnapshot = 'x'.repeat(MAX_BOOTSTRAP_BYTES + 1)),
    'bootstrapSnapshot',
    /ConfigMap/,
  );
  rejects(() => {}, 'controlPlaneAddress', /must not be empty/, { controlPlaneAddress: ' ' });
});

test('the valid base and a disabled kernel block with odd values pass', () => {
  assert.ok(synthesize(poolInfra()).length > 0);
  // kernel values are only checked when the feature is on
  assert.ok(
    synthesize(
      poolInfra(
        (p) => (p.kernel = { enabled: false, somaxconn: 0, ipLocalPortRange: '', tcpTwReuse: false }),
      ),
    ).length > 0,
  );
});

test.run();
