// Features the snapshot format carries before this data plane implements them: upstream TLS
// (API fields marked "(later)"). Serving such a snapshot would silently downgrade security
// (plaintext to a backend meant for TLS), so the snapshot is refused instead: the last good one
// keeps serving, and the refusal reaches the pool's `Programmed=False` condition with this message,
// as any version skew would. The compiler refuses such objects first (compiler/unsupported.ts).

import type { PoolSnapshot } from '../ir/snapshot.ts';

export function unsupportedFeature(s: PoolSnapshot): string | null {
  for (let i = 0; i < s.clusters.length; i++) {
    if (s.clusters[i]!.tls !== null) {
      return `clusters[${i}].tls: upstream TLS (${s.clusters[i]!.name}) is not supported by this data plane version`;
    }
  }
  return null;
}
