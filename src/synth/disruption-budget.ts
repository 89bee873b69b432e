// PodDisruptionBudget (policy/v1) for Deployment pools: voluntary evictions (node drains,
// cluster-autoscaler scale-down, upgrades) take at most one data-plane pod at a time.
//
// maxUnavailable: 1 rather than minAvailable: 1. With one replica, minAvailable: 1 forbids every
// eviction and a node drain hangs until someone deletes the PDB by hand; maxUnavailable: 1 lets
// the drain proceed (a single-replica pool has accepted that risk) and still guarantees "all but
// one" for larger pools, scaling with the HPA without recomputing anything.
//
// DaemonSet pools get no PDB: drains skip DaemonSet pods (they are recreated on the same node),
// and the disruption controller cannot evaluate maxUnavailable for a DaemonSet, which has no scale
// subresource, so such a PDB would only report errors.
//
// cdk8s-plus-27 has no PodDisruptionBudget construct; the typed L1 object k8s.KubePodDisruptionBudget
// (a cdk8s ApiObject with compiler-checked props) is used instead.

import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import type { PoolIdentity } from './identity.ts';
import { objectMetadata } from './identity.ts';

export interface PoolDisruptionBudgetProps {
  readonly identity: PoolIdentity;
}

export class PoolDisruptionBudget extends Construct {
  readonly apiObject: kplus.k8s.KubePodDisruptionBudget;

  constructor(scope: Construct, id: string, props: PoolDisruptionBudgetProps) {
    super(scope, id);
    const { identity } = props;
    this.apiObject = new kplus.k8s.KubePodDisruptionBudget(this, 'Resource', {
      metadata: objectMetadata(identity, identity.baseName),
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: { ...identity.selectorLabels } },
        // A crash-looping pod is not serving anyway; without this it would block every drain.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });
  }
}
