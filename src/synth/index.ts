// Bulkhead synthesizer: one pool's PoolInfra → its Kubernetes objects, in memory and pure (no
// clock, no randomness, no files). Used by the operator before server-side apply and by
// `bulkhead render`.

import { App } from 'cdk8s';
import type { PoolInfra } from '../ir/infra.ts';
import { PoolChart } from './pool-chart.ts';
import { canonicalObject, inApplyOrder } from './canonical.ts';
import type { KubeObject } from './canonical.ts';

export type { KubeObject } from './canonical.ts';
export { APPLY_ORDER } from './canonical.ts';
export { SynthError, BH_ERR_SYNTH_INVALID_INFRA } from './errors.ts';
export { poolIdentity } from './identity.ts';
export { PoolChart } from './pool-chart.ts';
export type { PoolChartProps } from './pool-chart.ts';
export { manifestsToYaml } from './yaml.ts';
export type { PoolIdentity } from './identity.ts';

export interface SynthOptions {
  /** operator config-stream address (`host:port`); omit for offline, bootstrap-only pools */
  controlPlaneAddress?: string;
}

/**
 * @throws SynthError (code BH_ERR_SYNTH_INVALID_INFRA) naming the pool and field when the
 *   PoolInfra cannot become valid workloads.
 */
export function synthesize(infra: PoolInfra, opts: SynthOptions = {}): KubeObject[] {
  // A fresh App per call: constructs keep state, and charts must not leak between pools.
  // App() only records an output directory; nothing is written unless app.synth() is called.
  const app = new App();
  const chart = new PoolChart(app, 'pool', { infra, controlPlaneAddress: opts.controlPlaneAddress });
  const objects = chart.toJson().map((o: Record<string, unknown>) => canonicalObject(o));
  return inApplyOrder(objects);
}
