// Coded errors of the synthesizer. A PoolInfra the synthesizer cannot turn into valid workloads is
// rejected as a whole: applying half a pool (a Service without its Deployment, say) is worse than
// keeping the last good objects, which is what the controller does when synthesize() throws.

export const BH_ERR_SYNTH_INVALID_INFRA = 'BH_ERR_SYNTH_INVALID_INFRA';

export class SynthError extends Error {
  readonly code = BH_ERR_SYNTH_INVALID_INFRA;
  /** `<namespace>/<name>` of the IngressPool */
  readonly pool: string;
  /** dot path from the IngressPool root (`spec.deployment.hostNetwork`), or the PoolInfra field */
  readonly field: string;

  constructor(pool: { namespace: string; name: string }, field: string, problem: string) {
    // Same line shape as `bulkhead validate`: <Kind>/<namespace>/<name>: <field.path>: <message>
    super(`IngressPool/${pool.namespace}/${pool.name}: ${field}: ${problem}`);
    this.name = 'SynthError';
    this.pool = `${pool.namespace}/${pool.name}`;
    this.field = field;
  }
}
