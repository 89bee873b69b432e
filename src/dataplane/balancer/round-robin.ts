// Round robin over the endpoints in the cluster's order, skipping unavailable ones. The starting
// position comes from the seeded PRNG so that replicas (and workers) do not all begin with the
// same endpoint after a snapshot swap.

import { BaseBalancer, type PickContext } from './balancer.ts';
import { isAvailable, type EndpointState } from './endpoint-state.ts';
import type { Prng } from './prng.ts';

export class RoundRobinBalancer extends BaseBalancer {
  private cursor: number;

  constructor(
    private readonly eps: EndpointState[],
    rng: Prng,
  ) {
    super();
    this.cursor = eps.length === 0 ? 0 : rng.int(eps.length);
  }

  pick(_ctx: PickContext | undefined, now: number): EndpointState | null {
    const eps = this.eps;
    const n = eps.length;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      const ep = eps[i]!;
      if (isAvailable(ep, now)) {
        this.cursor = i + 1 === n ? 0 : i + 1;
        return ep;
      }
    }
    return null;
  }
}
