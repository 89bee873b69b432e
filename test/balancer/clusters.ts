// Test helpers: a ClusterIR with n endpoints 10.0.0.1..n:8080.

import type { ClusterIR, LbAlgorithm } from '../../src/ir/snapshot.ts';

export function cluster(
  algorithm: LbAlgorithm,
  n: number,
  hash: Partial<ClusterIR['loadBalancer']['consistentHash']> = {},
): ClusterIR {
  return {
    name: 'shop/api:8080',
    service: { namespace: 'shop', name: 'api' },
    port: 8080,
    protocol: 'HTTP1',
    loadBalancer: { algorithm, consistentHash: { header: null, cookie: null, clientIP: false, ...hash } },
    healthCheck: { active: null, passive: null },
    endpoints: Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}`, port: 8080, zone: null })),
    tls: null,
  };
}
