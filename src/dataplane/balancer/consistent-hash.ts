// Consistent hashing on a ring with virtual nodes (ketama style). Points depend only on each
// endpoint's own key, so adding or removing one endpoint moves only the keys that land on its
// arcs (about 1/n of them). An unavailable owner passes the key to the next endpoint on the ring.
// Without a hash key (header or cookie missing) the pick is uniformly random.

import { BaseBalancer, type PickContext } from './balancer.ts';
import { isAvailable, type EndpointState } from './endpoint-state.ts';
import { hash32 } from './hash.ts';
import { CandidatePicker } from './pick-util.ts';
import type { Prng } from './prng.ts';

export const VIRTUAL_NODES = 160;

export class ConsistentHashBalancer extends BaseBalancer {
  private readonly points: Uint32Array;
  private readonly owners: Int32Array;
  private readonly random: CandidatePicker;

  constructor(
    private readonly eps: EndpointState[],
    rng: Prng,
  ) {
    super();
    this.random = new CandidatePicker(eps, rng);
    const ring: [number, number][] = [];
    eps.forEach((ep, owner) => {
      for (let v = 0; v < VIRTUAL_NODES; v++) ring.push([hash32(`${ep.key}#${v}`), owner]);
    });
    // ties (rare) are broken by endpoint key so the ring does not depend on endpoint order
    ring.sort((x, y) => x[0] - y[0] || (eps[x[1]]!.key < eps[y[1]]!.key ? -1 : 1));
    this.points = Uint32Array.from(ring, (r) => r[0]);
    this.owners = Int32Array.from(ring, (r) => r[1]);
  }

  pick(ctx: PickContext | undefined, now: number): EndpointState | null {
    const key = ctx?.hashKey;
    if (key === undefined) return this.random.one(now);
    return this.lookup(hash32(key), now);
  }

  /** The first available endpoint at or after point h on the ring. */
  lookup(h: number, now: number): EndpointState | null {
    const points = this.points;
    const n = points.length;
    if (n === 0) return null;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    for (let k = 0; k < n; k++) {
      const ep = this.eps[this.owners[(lo + k) % n]!]!;
      if (isAvailable(ep, now)) return ep;
    }
    return null;
  }
}
