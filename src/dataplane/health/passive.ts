// Passive outlier detection: consecutive failed responses (5xx, connect failures — the caller
// decides `ok`) eject an endpoint for baseEjectionTime × the number of times it was ejected, capped
// at MAX_EJECTION_MS. At most maxEjectionPercent of the cluster's endpoints are out at once, so one
// misbehaving service can never take its whole cluster down through this path.

import type { ClusterIR } from '../../ir/snapshot.ts';
import type { EndpointState } from '../balancer/index.ts';

export type PassiveConfig = ClusterIR['healthCheck']['passive'];

export const MAX_EJECTION_MS = 300_000;

interface OutlierRecord {
  failures: number;
  /** back-off multiplier: ejections not yet forgiven */
  ejections: number;
  /** when the last ejection ended (ms) */
  returnedAt: number;
}

export class PassiveOutlierDetector {
  // keyed by the state object, which survives snapshot swaps with its endpoint; a removed endpoint's
  // record goes away with it
  private readonly records = new WeakMap<EndpointState, OutlierRecord>();

  constructor(
    private readonly cfg: PassiveConfig,
    private readonly endpoints: () => EndpointState[],
  ) {}

  record(ep: EndpointState, ok: boolean, now: number): void {
    const cfg = this.cfg;
    if (cfg === null) return;
    let r = this.records.get(ep);
    if (ok) {
      if (r !== undefined) r.failures = 0;
      return;
    }
    if (r === undefined) {
      r = { failures: 0, ejections: 0, returnedAt: 0 };
      this.records.set(ep, r);
    }
    // late answers from requests sent before the ejection neither extend it nor count afterwards
    if (ep.ejectedUntil > now) return;
    if (++r.failures < cfg.consecutiveErrors) return;
    if (!this.mayEject(now)) return; // keep the count: the next failure tries again
    const base = cfg.baseEjectionTimeMs;
    // the multiplier fades by one for every base period spent back in service, as in Envoy
    if (r.ejections > 0 && base > 0) {
      r.ejections = Math.max(0, r.ejections - Math.floor((now - r.returnedAt) / base));
    }
    r.ejections++;
    ep.ejectedUntil = now + Math.min(base * r.ejections, MAX_EJECTION_MS);
    r.returnedAt = ep.ejectedUntil;
    r.failures = 0;
  }

  /** How many times `ep` has been ejected and not yet forgiven (for metrics and tests). */
  ejections(ep: EndpointState): number {
    return this.records.get(ep)?.ejections ?? 0;
  }

  private mayEject(now: number): boolean {
    const eps = this.endpoints();
    let ejected = 0;
    for (const e of eps) if (e.ejectedUntil > now) ejected++;
    const allowed = Math.floor((eps.length * this.cfg!.maxEjectionPercent) / 100);
    return ejected < allowed;
  }
}
