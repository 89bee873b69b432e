// The Secrets a pool's data plane reads as files (`bulkhead dataplane --secrets <dir>`), collected
// from its snapshot: Redis URLs of Global rate limits (and, as they land, TLS certificates, CA
// bundles, JWKS). The synthesizer mounts exactly these into the pool's pods, each at
// `<dir>/<namespace>/<name>/`, so a pool's pods see only the Secrets its own objects reference.
// Only Secrets of the pool's own namespace can be mounted; the processors that accept a reference
// make sure of that (see ratelimits.ts).

import type { PoolSnapshot } from '../ir/snapshot.ts';
import type { SecretMountRef } from '../ir/infra.ts';

export function referencedSecrets(snapshot: PoolSnapshot): SecretMountRef[] {
  const seen = new Map<string, SecretMountRef>();
  const add = (namespace: string, name: string) => seen.set(`${namespace}/${name}`, { name, namespace });
  for (const l of snapshot.rateLimits) {
    if (l.global !== null) add(l.global.redisSecretRef.namespace, l.global.redisSecretRef.name);
  }
  return [...seen.keys()].sort().map((k) => seen.get(k)!);
}
