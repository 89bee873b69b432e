// Copies of route-namespace Secrets in the pool's namespace. A pod can mount only Secrets of its own
// namespace, but a team's RouteSplit names Secrets in the team's namespace (a JWKS, a backend CA or
// client certificate). For each such Secret the pool references, the operator keeps an owned copy
// (`mirroredSecretName`, labelled with the pool, owner: the IngressPool) that the synthesizer mounts;
// copies the pool no longer references are deleted. Only the pool's own referenced Secrets are ever
// copied, into that pool's namespace: pool A's pods never see pool B's Secrets. A copy follows its
// source when the pool is reconciled (any change of the pool's objects); Secrets in the pool's own
// namespace are mounted directly and rotate through the kubelet. Secret data is never logged.

import type { PoolInfra } from '../ir/infra.ts';
import { LABEL_MANAGED_BY, LABEL_POOL, poolIdentity } from '../synth/identity.ts';
import { mirroredSecretName } from '../synth/secret-volumes.ts';
import type { ApiResource } from './api-resources.ts';
import { isNotFound, type KubeObject, type KubeRest } from './kube-rest.ts';

const SECRET: ApiResource = { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', namespaced: true };
export const LABEL_MIRROR_OF_POOL = 'bulkhead.dev/secret-mirror-of-pool';
export const ANNOTATION_MIRROR_SOURCE = 'bulkhead.dev/secret-source';

/** copy → the source resourceVersion and pool uid it was last written from: unchanged → no write */
const written = new Map<string, string>();

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** Bring the pool's copies in line with `infra.secrets`. Returns the source Secrets not found. */
export async function mirrorSecrets(
  infra: PoolInfra,
  rest: KubeRest,
  fieldManager: string,
): Promise<string[]> {
  const ns = infra.pool.namespace;
  const identity = poolIdentity(infra);
  const wanted = new Set<string>();
  const missing: string[] = [];
  for (const ref of infra.secrets) {
    if (ref.namespace === ns) continue;
    const name = mirroredSecretName(infra.pool.name, ref);
    wanted.add(name);
    let src: SecretObject;
    try {
      src = await rest.get<SecretObject>(SECRET, ref.namespace, ref.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      missing.push(`${ref.namespace}/${ref.name}`);
      continue;
    }
    const stamp = `${src.metadata.resourceVersion}|${infra.pool.uid}`;
    const at = `${ns}/${name}`;
    if (written.get(at) === stamp) continue;
    const copy: SecretObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: ns,
        labels: {
          [LABEL_MANAGED_BY]: 'bulkhead',
          [LABEL_POOL]: infra.pool.name,
          [LABEL_MIRROR_OF_POOL]: infra.pool.name,
        },
        annotations: { [ANNOTATION_MIRROR_SOURCE]: `${ref.namespace}/${ref.name}` },
        ...(identity.ownerReferences ? { ownerReferences: identity.ownerReferences as never } : {}),
      },
      type: src.type ?? 'Opaque',
      data: src.data ?? {},
    };
    await rest.apply(SECRET, copy, fieldManager, true);
    written.set(at, stamp);
  }
  const existing = await rest.list(SECRET, ns, {
    labelSelector: `${LABEL_MIRROR_OF_POOL}=${infra.pool.name}`,
  });
  for (const s of existing.items) {
    if (wanted.has(s.metadata.name)) continue;
    written.delete(`${ns}/${s.metadata.name}`);
    await rest
      .delete(SECRET, ns, s.metadata.name, s.metadata.uid)
      .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  }
  return missing;
}
