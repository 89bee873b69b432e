// Per-endpoint state shared by the balancers, the health checkers and the core. The objects are
// owned by the core and survive snapshot swaps by key, so in-flight counts, latency estimates and
// ejections carry over when only unrelated endpoints change.

import type { ClusterIR } from '../../ir/snapshot.ts';

export interface EndpointState {
  /** "address:port" */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  /** maintained through Balancer.onStart / onEnd */
  inflight: number;
  /** active health result (true when there is no active check) */
  healthy: boolean;
  /** passive ejection end, ms timestamp (Date.now() clock); 0 = not ejected */
  ejectedUntil: number;
  /** Peak-EWMA latency estimate in ms; 0 = no sample yet */
  ewmaMs: number;
  /** time of the last EWMA update (same clock as `now` passed to the balancer); 0 = never */
  lastUpdate: number;
}

export function endpointKey(address: string, port: number): string {
  return `${address}:${port}`;
}

/** An endpoint may receive traffic: actively healthy and not passively ejected at `now`. */
export function isAvailable(ep: EndpointState, now: number): boolean {
  return ep.healthy && ep.ejectedUntil <= now;
}

/**
 * One state per endpoint of the cluster, in the cluster's (sorted) order. Objects from `previous`
 * are reused for endpoints that stay, so their counters survive the swap.
 */
export function createEndpointStates(
  cluster: ClusterIR,
  previous?: Map<string, EndpointState>,
): Map<string, EndpointState> {
  const out = new Map<string, EndpointState>();
  for (const e of cluster.endpoints) {
    const key = endpointKey(e.address, e.port);
    if (out.has(key)) continue;
    out.set(
      key,
      previous?.get(key) ?? {
        key,
        address: e.address,
        port: e.port,
        inflight: 0,
        healthy: true,
        ejectedUntil: 0,
        ewmaMs: 0,
        lastUpdate: 0,
      },
    );
  }
  return out;
}
