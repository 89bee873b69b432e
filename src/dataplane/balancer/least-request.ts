// Least request with the power of two choices: of two random available endpoints, the one with
// fewer requests in flight wins.

import type { EndpointState } from './endpoint-state.ts';
import { TwoChoiceBalancer } from './pick-util.ts';

export class LeastRequestBalancer extends TwoChoiceBalancer {
  protected cost(ep: EndpointState): number {
    return ep.inflight;
  }
}
