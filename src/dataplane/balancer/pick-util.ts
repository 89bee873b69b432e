// Candidate selection shared by the power-of-two-choices balancers. In the common case (all
// endpoints available) two random distinct indexes cost O(1); only when one of them is unavailable
// do we scan for the available set, into a scratch array owned by the balancer.

import { BaseBalancer, type PickContext } from './balancer.ts';
import type { Prng } from './prng.ts';
import { isAvailable, type EndpointState } from './endpoint-state.ts';

export class CandidatePicker {
  private readonly scratch: Int32Array;

  constructor(
    private readonly eps: EndpointState[],
    private readonly rng: Prng,
  ) {
    this.scratch = new Int32Array(eps.length);
  }

  /**
   * Two distinct available endpoints chosen uniformly at random (b === null when only one is
   * available); null when none is.
   */
  two(now: number, out: { a: EndpointState | null; b: EndpointState | null }): boolean {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return false;
    if (n >= 2) {
      const i = this.rng.int(n);
      let j = this.rng.int(n - 1);
      if (j >= i) j++;
      const a = eps[i]!;
      const b = eps[j]!;
      if (isAvailable(a, now) && isAvailable(b, now)) {
        out.a = a;
        out.b = b;
        return true;
      }
    }
    let k = 0;
    for (let i = 0; i < n; i++) if (isAvailable(eps[i]!, now)) this.scratch[k++] = i;
    if (k === 0) return false;
    const i = this.rng.int(k);
    out.a = eps[this.scratch[i]!]!;
    if (k === 1) {
      out.b = null;
      return true;
    }
    let j = this.rng.int(k - 1);
    if (j >= i) j++;
    out.b = eps[this.scratch[j]!]!;
    return true;
  }

  /** One available endpoint uniformly at random, or null. */
  one(now: number): EndpointState | null {
    const eps = this.eps;
    const n = eps.length;
    if (n === 0) return null;
    const first = eps[this.rng.int(n)]!;
    if (isAvailable(first, now)) return first;
    let k = 0;
    for (let i = 0; i < n; i++) if (isAvailable(eps[i]!, now)) this.scratch[k++] = i;
    return k === 0 ? null : eps[this.scratch[this.rng.int(k)]!]!;
  }
}

/**
 * The power-of-two-choices skeleton: of two random available endpoints, the one with the lower
 * `cost` wins (ties go to the first, which is random anyway). Subclasses only define the cost.
 */
export abstract class TwoChoiceBalancer extends BaseBalancer {
  private readonly candidates: CandidatePicker;
  private readonly pair: { a: EndpointState | null; b: EndpointState | null } = { a: null, b: null };

  constructor(endpoints: EndpointState[], rng: Prng) {
    super();
    this.candidates = new CandidatePicker(endpoints, rng);
  }

  protected abstract cost(ep: EndpointState, now: number): number;

  pick(_ctx: PickContext | undefined, now: number): EndpointState | null {
    const p = this.pair;
    if (!this.candidates.two(now, p)) return null;
    if (p.b === null) return p.a;
    return this.cost(p.b, now) < this.cost(p.a!, now) ? p.b : p.a;
  }
}
