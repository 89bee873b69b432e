// Where the data-plane pods may run: nodeSelector, tolerations and (Deployments only) topology
// spread. Written as JSON patches on the pod spec because cdk8s-plus maps these onto node
// affinity and pod anti-affinity instead of the plain fields, and cannot express a key-less
// toleration limited to one effect. The pool's values are copied one to one, in their order.

import { JsonPatch } from 'cdk8s';
import type { PoolInfra } from '../ir/infra.ts';
import type { PoolIdentity } from './identity.ts';

export const TOPOLOGY_HOSTNAME = 'kubernetes.io/hostname';
export const TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** @param podSpec JSON pointer of the pod spec, e.g. `/spec/template/spec` */
export function schedulingPatches(podSpec: string, infra: PoolInfra, identity: PoolIdentity): JsonPatch[] {
  const patches: JsonPatch[] = [];
  const { nodeSelector, tolerations, mode } = infra.deployment;
  if (Object.keys(nodeSelector).length > 0) {
    const sorted: Record<string, string> = {};
    for (const key of Object.keys(nodeSelector).sort()) sorted[key] = nodeSelector[key]!;
    patches.push(JsonPatch.add(`${podSpec}/nodeSelector`, sorted));
  }
  if (tolerations.length > 0) {
    patches.push(
      JsonPatch.add(
        `${podSpec}/tolerations`,
        // copy only the fields that are set, so absent ones stay absent in the manifest
        tolerations.map((t) =>
          Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined && v !== '')),
        ),
      ),
    );
  }
  if (mode === 'Deployment') {
    // ScheduleAnyway: spreading is a preference. A hard constraint would leave replicas Pending
    // in a single-zone cluster or when a zone is down, which is when capacity is needed most.
    patches.push(
      JsonPatch.add(
        `${podSpec}/topologySpreadConstraints`,
        [TOPOLOGY_HOSTNAME, TOPOLOGY_ZONE].map((topologyKey) => ({
          maxSkew: 1,
          topologyKey,
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: { ...identity.selectorLabels } },
        })),
      ),
    );
  }
  return patches;
}
