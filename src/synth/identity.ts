// Names, labels and owner references of one pool's objects. These are the parts of the output that
// must never drift between operator versions: Deployment/DaemonSet selectors are immutable, so a
// changed selector label would force a delete-and-recreate of the data plane (an outage), and a
// changed name would orphan the old objects. Change nothing here without a migration.

import type { ApiObjectMetadata } from 'cdk8s';
import type { PoolInfra } from '../ir/infra.ts';

export const API_GROUP_VERSION = 'bulkhead.dev/v1alpha1';
export const POOL_KIND = 'IngressPool';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_POOL = 'bulkhead.dev/pool';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PRODUCT_LINE = 'bulkhead.dev/product-line';
export const ANNOTATION_SNAPSHOT_VERSION = 'bulkhead.dev/snapshot-version';

/** app.kubernetes.io/name of every data-plane object, whatever the pool */
export const DATAPLANE_APP_NAME = 'bulkhead-dataplane';

/** Everything the per-object constructs need to know about "who" they are, computed once per pool. */
export interface PoolIdentity {
  readonly namespace: string;
  /** `bulkhead-<pool>`: ServiceAccount, traffic Service, Deployment/DaemonSet, HPA, PDB */
  readonly baseName: string;
  readonly bootstrapConfigMapName: string;
  readonly adminServiceName: string;
  /** not created by the synthesizer: the operator issues it when a control plane is used */
  readonly credentialSecretName: string;
  /** the only labels that go into selectors (immutable once applied) */
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** selector labels plus the descriptive ones; on every object and on the pod template */
  readonly labels: Readonly<Record<string, string>>;
  readonly ownerReferences: ApiObjectMetadata['ownerReferences'];
}

export function poolIdentity(infra: PoolInfra): PoolIdentity {
  const { name, namespace, uid, productLine } = infra.pool;
  const baseName = `bulkhead-${name}`;
  const selectorLabels = {
    [LABEL_NAME]: DATAPLANE_APP_NAME,
    [LABEL_INSTANCE]: name,
    [LABEL_POOL]: name,
  };
  return {
    namespace,
    baseName,
    bootstrapConfigMapName: `${baseName}-bootstrap`,
    adminServiceName: `${baseName}-admin`,
    credentialSecretName: `${baseName}-credential`,
    selectorLabels,
    labels: {
      ...selectorLabels,
      [LABEL_MANAGED_BY]: 'bulkhead',
      [LABEL_PRODUCT_LINE]: productLine,
    },
    // Offline (`bulkhead render`) there is no uid; an owner reference with an empty uid would be
    // rejected by the API server, so the objects are simply left unowned.
    ownerReferences:
      uid === ''
        ? undefined
        : [
            {
              apiVersion: API_GROUP_VERSION,
              kind: POOL_KIND,
              name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
  };
}

/** Metadata for one object of the pool; labels come from the chart, so only name and extras here. */
export function objectMetadata(
  id: PoolIdentity,
  name: string,
  annotations?: Record<string, string>,
): ApiObjectMetadata {
  return {
    name,
    namespace: id.namespace,
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
    ...(id.ownerReferences ? { ownerReferences: id.ownerReferences.map((r) => ({ ...r })) } : {}),
  };
}
