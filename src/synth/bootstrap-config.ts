// The bootstrap ConfigMap: the pool's current snapshot, so a data-plane pod can start serving
// before (or without) the operator's config stream. Offline pools (`bulkhead render`, no control
// plane) run from this file alone.
//
// Deliberately not referenced from the pod template (no checksum annotation): a new snapshot must
// reach running pods through the stream, not through a rolling restart of every proxy in the pool.

import { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import type { PoolInfra } from '../ir/infra.ts';
import type { PoolIdentity } from './identity.ts';
import { ANNOTATION_SNAPSHOT_VERSION, objectMetadata } from './identity.ts';

/** key of the snapshot inside the ConfigMap and file name inside the mount */
export const BOOTSTRAP_KEY = 'snapshot.json';
export const BOOTSTRAP_MOUNT_DIR = '/etc/bulkhead/bootstrap';
export const BOOTSTRAP_PATH = `${BOOTSTRAP_MOUNT_DIR}/${BOOTSTRAP_KEY}`;

export interface BootstrapConfigProps {
  readonly infra: PoolInfra;
  readonly identity: PoolIdentity;
}

export class BootstrapConfig extends Construct {
  readonly configMap: kplus.ConfigMap;

  constructor(scope: Construct, id: string, props: BootstrapConfigProps) {
    super(scope, id);
    const { infra, identity } = props;
    this.configMap = new kplus.ConfigMap(this, 'Resource', {
      metadata: objectMetadata(identity, identity.bootstrapConfigMapName, {
        [ANNOTATION_SNAPSHOT_VERSION]: infra.snapshotVersion,
      }),
      data: { [BOOTSTRAP_KEY]: infra.bootstrapSnapshot },
      // Mutable on purpose: the operator rewrites it in place with each new snapshot version.
      immutable: false,
    });
  }
}
