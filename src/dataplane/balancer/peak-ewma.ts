// Peak-EWMA (Finagle / Linkerd style): cost = latency estimate × (in-flight + 1), the cheaper of two
// random candidates wins. When read, an estimate fades towards DEFAULT_RTT_MS with the same time
// constant: knowledge that has not been refreshed is worth less, so an endpoint that was slow and
// then left idle is tried again instead of starving forever. (Fading towards zero, as Finagle does,
// would let a long-idle endpoint look free whatever its in-flight count and take a whole burst.)

import { DEFAULT_RTT_MS, EWMA_TAU_MS } from './balancer.ts';
import type { EndpointState } from './endpoint-state.ts';
import { TwoChoiceBalancer } from './pick-util.ts';

export function peakEwmaCost(ep: EndpointState, now: number): number {
  if (ep.lastUpdate === 0) return DEFAULT_RTT_MS * (ep.inflight + 1);
  const fade = Math.exp(-Math.max(0, now - ep.lastUpdate) / EWMA_TAU_MS);
  return (DEFAULT_RTT_MS + (ep.ewmaMs - DEFAULT_RTT_MS) * fade) * (ep.inflight + 1);
}

export class PeakEwmaBalancer extends TwoChoiceBalancer {
  protected cost(ep: EndpointState, now: number): number {
    return peakEwmaCost(ep, now);
  }
}
