// The Secrets a pool's snapshot references, mounted into its data-plane pods as files at
// `/var/run/bulkhead/secrets/<namespace>/<name>/<key>` (what `bulkhead dataplane --secrets` reads).
// A pod can mount only Secrets of its own namespace: one in the pool's namespace is mounted as is;
// one in a route's namespace is mounted from the operator's copy in the pool's namespace
// (`mirroredSecretName`, kept in sync by the operator; see src/operator/secret-mirror.ts). Volumes are
// optional, so a missing Secret never keeps pods from starting: the data plane then fails closed for
// the objects that need it (no certificate, 401, 502) while the rest of the pool serves.

import { createHash } from 'node:crypto';
import type { Construct } from 'constructs';
import * as kplus from 'cdk8s-plus-27';
import type { PoolInfra } from '../ir/infra.ts';
import type { ObjectRef } from '../ir/snapshot.ts';

export const SECRETS_MOUNT_DIR = '/var/run/bulkhead/secrets';

/** Name of the operator's copy of `ref` in the pool's namespace (≤ 253 characters, stable). */
export function mirroredSecretName(poolName: string, ref: ObjectRef): string {
  const hash = createHash('sha256').update(`${ref.namespace}/${ref.name}`).digest('hex').slice(0, 10);
  return `bulkhead-${poolName}-${ref.namespace}-${ref.name}`.slice(0, 241) + `-${hash}`;
}

export function secretVolumeMounts(scope: Construct, infra: PoolInfra): kplus.VolumeMount[] {
  return infra.secrets.map((ref, i) => {
    const source =
      ref.namespace === infra.pool.namespace ? ref.name : mirroredSecretName(infra.pool.name, ref);
    const volume = kplus.Volume.fromSecret(
      scope,
      `SecretVolume${i}`,
      kplus.Secret.fromSecretName(scope, `Secret${i}`, source),
      { name: `secret-${i}`, optional: true, defaultMode: 0o440 },
    );
    return { volume, path: `${SECRETS_MOUNT_DIR}/${ref.namespace}/${ref.name}`, readOnly: true };
  });
}
