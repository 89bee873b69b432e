// One pool's chart: validates the PoolInfra, then composes the per-object constructs. Chart
// labels put the pool's labels on every object; names are explicit, so cdk8s' name hashing
// never applies (it is switched off too, in case a construct ever forgets a name).

import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { PoolInfra } from '../ir/infra.ts';
import { poolIdentity } from './identity.ts';
import type { PoolIdentity } from './identity.ts';
import { validatePoolInfra } from './validate.ts';
import { PoolServiceAccount } from './service-account.ts';
import { BootstrapConfig } from './bootstrap-config.ts';
import { PoolServices } from './service.ts';
import { PoolWorkload } from './workload.ts';
import { PoolAutoscaler } from './autoscaler.ts';
import { PoolDisruptionBudget } from './disruption-budget.ts';

export interface PoolChartProps {
  readonly infra: PoolInfra;
  /**
   * Address of the operator's config stream. When set, pods connect to it with the pool
   * credential; when absent they run from the bootstrap snapshot alone.
   * @default - offline: bootstrap snapshot only
   */
  readonly controlPlaneAddress?: string;
}

export class PoolChart extends Chart {
  readonly identity: PoolIdentity;

  constructor(scope: Construct, id: string, props: PoolChartProps) {
    validatePoolInfra(props.infra, props.controlPlaneAddress);
    const identity = poolIdentity(props.infra);
    super(scope, id, {
      namespace: identity.namespace,
      labels: { ...identity.labels },
      disableResourceNameHashes: true,
    });
    this.identity = identity;
    const { infra, controlPlaneAddress } = props;

    const sa = new PoolServiceAccount(this, 'ServiceAccount', { identity });
    const bootstrap = new BootstrapConfig(this, 'Bootstrap', { infra, identity });
    new PoolServices(this, 'Services', { infra, identity });
    new PoolWorkload(this, 'Workload', {
      infra,
      identity,
      serviceAccount: sa.serviceAccount,
      bootstrapConfigMap: bootstrap.configMap,
      controlPlaneAddress,
    });
    if (infra.autoscaling)
      new PoolAutoscaler(this, 'Autoscaler', { identity, autoscaling: infra.autoscaling });
    if (infra.deployment.mode === 'Deployment')
      new PoolDisruptionBudget(this, 'DisruptionBudget', { identity });
  }
}
