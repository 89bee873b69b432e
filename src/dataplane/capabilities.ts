// Features the snapshot format carries before this data plane implements them:
// upstream TLS and route authentication (API fields marked "(later)"). Serving such a snapshot
// would silently downgrade security (plaintext to a backend meant for TLS, an open route meant for
// JWT), so the snapshot is refused instead: the last good one keeps serving, and the refusal reaches
// the pool's `Programmed=False` condition with this message, as any version skew would.

import type { PoolSnapshot } from '../ir/snapshot.ts';

export function unsupportedFeature(s: PoolSnapshot): string | null {
  for (let i = 0; i < s.clusters.length; i++) {
    if (s.clusters[i]!.tls !== null) {
      return `clusters[${i}].tls: upstream TLS (${s.clusters[i]!.name}) is not supported by this data plane version`;
    }
  }
  for (let i = 0; i < s.routes.length; i++) {
    if (s.routes[i]!.auth?.external)
      return `routes[${i}].auth.external: external authentication (${s.routes[i]!.id}) is not supported by this data plane version`;
  }
  return null;
}
