// Load balancers for one cluster's endpoints: PeakEWMA (default), LeastRequest (P2C), RoundRobin,
// ConsistentHash. A balancer is built per snapshot over the endpoint states, which outlive it.

import type { IncomingHttpHeaders } from 'node:http';
import type { ClusterIR } from '../../ir/snapshot.ts';
import { cookieValue, headerValue } from '../router/request-values.ts';
import type { Balancer } from './balancer.ts';
import { ConsistentHashBalancer } from './consistent-hash.ts';
import type { EndpointState } from './endpoint-state.ts';
import { LeastRequestBalancer } from './least-request.ts';
import { PeakEwmaBalancer } from './peak-ewma.ts';
import { Prng } from './prng.ts';
import { RoundRobinBalancer } from './round-robin.ts';

export type { Balancer, PickContext } from './balancer.ts';
export { DEFAULT_RTT_MS, EWMA_TAU_MS, FAILURE_PENALTY_MS, observeLatency } from './balancer.ts';
export { createEndpointStates, endpointKey, isAvailable, type EndpointState } from './endpoint-state.ts';
export { peakEwmaCost, PeakEwmaBalancer } from './peak-ewma.ts';
export { LeastRequestBalancer } from './least-request.ts';
export { RoundRobinBalancer } from './round-robin.ts';
export { ConsistentHashBalancer, VIRTUAL_NODES } from './consistent-hash.ts';
export { Prng } from './prng.ts';

/** `seed` makes the balancer's random choices reproducible (tests); omit it in production. */
export function createBalancer(cluster: ClusterIR, endpoints: EndpointState[], seed?: number): Balancer {
  const rng = new Prng(seed);
  switch (cluster.loadBalancer.algorithm) {
    case 'LeastRequest':
      return new LeastRequestBalancer(endpoints, rng);
    case 'RoundRobin':
      return new RoundRobinBalancer(endpoints, rng);
    case 'ConsistentHash':
      return new ConsistentHashBalancer(endpoints, rng);
    case 'PeakEWMA':
    default:
      return new PeakEwmaBalancer(endpoints, rng);
  }
}

/**
 * The consistent-hash input for a request: the configured header's value, else the configured
 * cookie's value, else the client IP when enabled. undefined when the cluster does not hash or the
 * value is absent (the balancer then picks at random).
 */
export function hashKeyFor(
  cluster: ClusterIR,
  headers: IncomingHttpHeaders,
  clientIP: string,
): string | undefined {
  if (cluster.loadBalancer.algorithm !== 'ConsistentHash') return undefined;
  const ch = cluster.loadBalancer.consistentHash;
  if (ch.header) {
    const v = headerValue(headers, ch.header.toLowerCase());
    if (v !== undefined) return v;
  }
  if (ch.cookie) {
    const v = cookieValue(headerValue(headers, 'cookie'), ch.cookie);
    if (v !== undefined) return v;
  }
  if (ch.clientIP && clientIP !== '') return clientIP;
  return undefined;
}
