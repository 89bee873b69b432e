// Least request with the power of two choices: of two random available endpoints, the one with
// fewer requests in flight wins (ties go to the first candidate, which is random anyway).

import { BaseBalancer, type PickContext } from './balancer.ts';
import type { EndpointState } from './endpoint-state.ts';
import { CandidatePicker } from './pick-util.ts';
import type { Prng } from './prng.ts';

export class LeastRequestBalancer extends BaseBalancer {
  private readonly candidates: CandidatePicker;
  private readonly pair: { a: EndpointState | null; b: EndpointState | null } = { a: null, b: null };

  constructor(endpoints: EndpointState[], rng: Prng) {
    super();
    this.candidates = new CandidatePicker(endpoints, rng);
  }

  pick(_ctx: PickContext | undefined, now: number): EndpointState | null {
    const p = this.pair;
    if (!this.candidates.two(now, p)) return null;
    if (p.b === null) return p.a;
    return p.b.inflight < p.a!.inflight ? p.b : p.a;
  }
}
