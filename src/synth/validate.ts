// Guards the synthesizer's input. The compiler should never hand over an impossible PoolInfra, but
// the synthesizer is also reached from `bulkhead render` and tests with hand-written input, and a
// Kubernetes rejection at apply time ("spec.template.spec.hostNetwork: Invalid value") names
// neither the pool nor the IngressPool field to fix. Field paths below are IngressPool paths where
// the value comes from the spec, so the message points at what the user wrote.

import type { PoolInfra, ResourceList } from '../ir/infra.ts';
import { SynthError } from './errors.ts';
import { isQuantity, quantityValue } from './quantity.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const PORT_RANGE = /^(\d{1,5})\s+(\d{1,5})$/;

/** `bulkhead-<name>-admin` is a Service name and so a DNS label of at most 63 characters. */
export const MAX_POOL_NAME_LENGTH = 63 - 'bulkhead-'.length - '-admin'.length;
/** The API server rejects ConfigMaps over 1 MiB; leave room for metadata. */
export const MAX_BOOTSTRAP_BYTES = 1024 * 1024 - 16 * 1024;
/** autoscaling/v2 caps stabilization windows at one hour */
const MAX_STABILIZATION_SECONDS = 3600;

export function validatePoolInfra(infra: PoolInfra, controlPlaneAddress?: string): void {
  const pool = infra.pool;
  const fail = (field: string, problem: string): never => {
    throw new SynthError(pool, field, problem);
  };

  if (!DNS_LABEL.test(pool.namespace) || pool.namespace.length > 63) {
    fail('metadata.namespace', 'must be a DNS label of at most 63 characters');
  }
  if (!DNS_LABEL.test(pool.name) || pool.name.length > MAX_POOL_NAME_LENGTH) {
    fail(
      'metadata.name',
      `must be a DNS label of at most ${MAX_POOL_NAME_LENGTH} characters (derived Service names get a "bulkhead-" prefix and an "-admin" suffix)`,
    );
  }
  if (pool.productLine === '' || pool.productLine.length > 63 || !LABEL_VALUE.test(pool.productLine)) {
    fail('spec.productLine', 'must be a valid label value (1-63 characters: letters, digits, "-", "_", ".")');
  }

  const dep = infra.deployment;
  if (dep.mode !== 'Deployment' && dep.mode !== 'DaemonSet')
    fail('spec.deployment.mode', 'must be Deployment or DaemonSet');
  if (dep.hostNetwork && dep.mode !== 'DaemonSet') {
    fail(
      'spec.deployment.hostNetwork',
      'hostNetwork needs mode DaemonSet: two replicas of a Deployment on one node would fight over the host ports',
    );
  }
  if (dep.image.trim() === '') fail('spec.deployment.image', 'must not be empty');
  checkResources(dep.resources.requests, 'spec.deployment.resources.requests', fail);
  checkResources(dep.resources.limits, 'spec.deployment.resources.limits', fail);
  for (const key of ['cpu', 'memory'] as const) {
    const req = dep.resources.requests[key];
    const lim = dep.resources.limits[key];
    if (req !== undefined && lim !== undefined && quantityValue(req) > quantityValue(lim)) {
      fail(`spec.deployment.resources.requests.${key}`, `${req} exceeds the limit ${lim}`);
    }
  }
  if (dep.workers !== 'auto' && !(Number.isInteger(dep.workers) && dep.workers >= 1)) {
    fail('spec.deployment.workers', 'must be "auto" or an integer >= 1');
  }
  dep.tolerations.forEach((t, i) => {
    const at = `spec.deployment.tolerations[${i}]`;
    if (!t.key && t.operator !== 'Exists') fail(`${at}.operator`, 'must be Exists when key is empty');
    if (t.operator === 'Exists' && t.value) fail(`${at}.value`, 'must be empty with operator Exists');
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      fail(`${at}.tolerationSeconds`, 'is only allowed with effect NoExecute');
    }
  });

  if (!Number.isInteger(infra.replicas) || infra.replicas < 0)
    fail('spec.replicas', 'must be an integer >= 0');
  const hpa = infra.autoscaling;
  if (hpa) {
    if (dep.mode === 'DaemonSet')
      fail('spec.autoscaling', 'cannot be used with mode DaemonSet (one pod per node, nothing to scale)');
    if (!Number.isInteger(hpa.minReplicas) || hpa.minReplicas < 1)
      fail('spec.autoscaling.minReplicas', 'must be an integer >= 1');
    if (!Number.isInteger(hpa.maxReplicas) || hpa.maxReplicas < hpa.minReplicas) {
      fail('spec.autoscaling.maxReplicas', `must be an integer >= minReplicas (${hpa.minReplicas})`);
    }
    if (!Number.isInteger(hpa.targetCPUUtilizationPercentage) || hpa.targetCPUUtilizationPercentage < 1) {
      fail('spec.autoscaling.targetCPUUtilizationPercentage', 'must be an integer >= 1');
    }
    const down = hpa.scaleDownStabilizationSeconds;
    if (!Number.isInteger(down) || down < 0 || down > MAX_STABILIZATION_SECONDS) {
      fail(
        'spec.autoscaling.scaleDownStabilization',
        `must be between 0s and ${MAX_STABILIZATION_SECONDS}s in whole seconds`,
      );
    }
    // CPU utilization is measured against the request; without one the HPA reports
    // "missing request for cpu" and never scales.
    if (!dep.resources.requests.cpu)
      fail(
        'spec.deployment.resources.requests.cpu',
        'is required with autoscaling (utilization is relative to the request)',
      );
  }

  const svc = infra.service;
  if (!['ClusterIP', 'NodePort', 'LoadBalancer'].includes(svc.type))
    fail('spec.service.type', 'must be LoadBalancer, NodePort or ClusterIP');
  if (svc.externalTrafficPolicy !== 'Local' && svc.externalTrafficPolicy !== 'Cluster') {
    fail('spec.service.externalTrafficPolicy', 'must be Local or Cluster');
  }

  const { port, adminPort, tlsPort } = infra.listener;
  checkPort(port, 'spec.listener.port', fail);
  checkPort(adminPort, 'spec.listener.adminPort', fail);
  if (adminPort === port) fail('spec.listener.adminPort', 'must differ from spec.listener.port');
  if (tlsPort !== null) {
    checkPort(tlsPort, 'spec.listener.tls.port', fail);
    if (tlsPort === port || tlsPort === adminPort)
      fail('spec.listener.tls.port', 'must differ from port and adminPort');
  }

  if (!Number.isFinite(infra.drainSeconds) || infra.drainSeconds < 0)
    fail('spec.websocket.drainPeriod', 'must be >= 0s');

  const k = infra.kernel;
  if (k.enabled) {
    if (!Number.isInteger(k.somaxconn) || k.somaxconn < 1)
      fail('spec.kernel.somaxconn', 'must be an integer >= 1');
    const m = PORT_RANGE.exec(k.ipLocalPortRange.trim());
    const lo = m ? Number(m[1]) : 0;
    const hi = m ? Number(m[2]) : 0;
    if (!m || lo < 1 || hi > 65535 || lo >= hi)
      fail('spec.kernel.ipLocalPortRange', 'must be "<low> <high>" with 1 <= low < high <= 65535');
  }

  if (infra.bootstrapSnapshot === '')
    fail('bootstrapSnapshot', 'must not be empty (the data plane starts from it)');
  if (Buffer.byteLength(infra.bootstrapSnapshot, 'utf8') > MAX_BOOTSTRAP_BYTES) {
    fail(
      'bootstrapSnapshot',
      `is larger than a ConfigMap can hold (${MAX_BOOTSTRAP_BYTES} bytes); split routes into more pools`,
    );
  }
  if (controlPlaneAddress !== undefined && controlPlaneAddress.trim() === '') {
    fail('controlPlaneAddress', 'must not be empty when given (omit it for an offline bootstrap-only pool)');
  }
}

function checkPort(value: number, field: string, fail: (f: string, p: string) => never): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    fail(field, 'must be an integer port between 1 and 65535');
}

function checkResources(list: ResourceList, field: string, fail: (f: string, p: string) => never): void {
  for (const key of ['cpu', 'memory'] as const) {
    const q = list[key];
    if (q !== undefined && !isQuantity(q))
      fail(`${field}.${key}`, `"${q}" is not a Kubernetes quantity (e.g. 500m, 2, 256Mi)`);
  }
}
