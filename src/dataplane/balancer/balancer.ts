// The Balancer contract and the bookkeeping every algorithm shares (in-flight counts and the
// latency estimate, kept up to date whatever the algorithm so a switch to PeakEWMA starts warm).

import type { EndpointState } from './endpoint-state.ts';

export interface PickContext {
  /** consistent-hash input (header / cookie / client IP value), from hashKeyFor() */
  hashKey?: string;
}

export interface Balancer {
  /**
   * An available endpoint (healthy and not ejected at `now`), or null when none is available.
   * There is no panic mode: when every endpoint is down the caller answers 503 rather than sending
   * traffic to endpoints known to be failing (passive ejection can never take out more than
   * maxEjectionPercent, so only active checks can empty a cluster).
   */
  pick(ctx: PickContext | undefined, now: number): EndpointState | null;
  /** inflight++ */
  onStart(ep: EndpointState): void;
  /** inflight--, latency estimate update */
  onEnd(ep: EndpointState, latencyMs: number, ok: boolean, now: number): void;
}

/** Time constant of the latency estimate's decay. */
export const EWMA_TAU_MS = 10_000;
/** Assumed latency of an endpoint with no sample yet: low, so new endpoints get tried. */
export const DEFAULT_RTT_MS = 10;
/** A failed request counts as at least this slow, so a fast-failing endpoint does not attract traffic. */
export const FAILURE_PENALTY_MS = 500;

/**
 * Peak-sensitive EWMA: a sample above the estimate replaces it at once; otherwise the estimate moves
 * towards the sample with weight 1 - exp(-Δt/τ) (Δt = time since the last update).
 */
export function observeLatency(ep: EndpointState, latencyMs: number, ok: boolean, now: number): void {
  const sample = ok ? Math.max(0, latencyMs) : Math.max(latencyMs, FAILURE_PENALTY_MS);
  if (ep.lastUpdate === 0 || sample > ep.ewmaMs) {
    ep.ewmaMs = sample;
  } else {
    const w = Math.exp(-Math.max(0, now - ep.lastUpdate) / EWMA_TAU_MS);
    ep.ewmaMs = ep.ewmaMs * w + sample * (1 - w);
  }
  ep.lastUpdate = now;
}

/** Shared onStart/onEnd; algorithms extend it with pick(). */
export abstract class BaseBalancer implements Balancer {
  abstract pick(ctx: PickContext | undefined, now: number): EndpointState | null;

  onStart(ep: EndpointState): void {
    ep.inflight++;
  }

  onEnd(ep: EndpointState, latencyMs: number, ok: boolean, now: number): void {
    if (ep.inflight > 0) ep.inflight--;
    observeLatency(ep, latencyMs, ok, now);
  }
}
