// Weighted backend choice for one route, with optional sticky assignment by cookie. Everything a
// pick can return is built once per snapshot, so a pick allocates nothing.

import type { RouteIR } from '../../ir/snapshot.ts';
import { hashHex } from '../balancer/hash.ts';
import { cookieValue } from './request-values.ts';

export interface BackendPick {
  cluster: string;
  /** Set-Cookie value to add to the response, or null */
  setCookie: string | null;
}

/**
 * The cookie names a backend by a short stable token: its index plus a hash of the cluster name
 * (never the raw name, which would reveal namespaces and services). A token for a cluster the route
 * no longer has simply does not resolve and the request is re-picked by weight.
 */
export function stickyToken(index: number, cluster: string): string {
  return `${index}.${hashHex(cluster).slice(0, 6)}`;
}

export class BackendPicker {
  private readonly cumulative: Float64Array;
  private readonly total: number;
  private readonly plain: BackendPick[];
  private readonly withCookie: BackendPick[] | null;
  private readonly cookieName: string | null;
  private readonly byToken = new Map<string, number>();

  constructor(ir: RouteIR) {
    const backends = ir.backends;
    this.cumulative = new Float64Array(backends.length);
    let sum = 0;
    backends.forEach((b, i) => {
      sum += b.weight;
      this.cumulative[i] = sum;
    });
    this.total = sum;
    this.plain = backends.map((b) => Object.freeze({ cluster: b.cluster, setCookie: null }));
    const cookie = ir.sessionAffinity?.cookie ?? null;
    this.cookieName = cookie?.name ?? null;
    if (cookie === null) {
      this.withCookie = null;
      return;
    }
    const attrs = cookie.ttlMs > 0 ? `; Path=/; Max-Age=${Math.floor(cookie.ttlMs / 1000)}` : '; Path=/';
    this.withCookie = backends.map((b, i) => {
      const token = stickyToken(i, b.cluster);
      this.byToken.set(token, i);
      return Object.freeze({
        cluster: b.cluster,
        setCookie: `${cookie.name}=${token}${attrs}; HttpOnly; SameSite=Lax`,
      });
    });
  }

  pick(cookieHeader: string | undefined, rand?: number): BackendPick | null {
    const n = this.plain.length;
    if (n === 0) return null;
    if (this.withCookie !== null) {
      const token = cookieValue(cookieHeader, this.cookieName!);
      if (token !== undefined) {
        const i = this.byToken.get(token);
        if (i !== undefined) return this.plain[i]!;
      }
      return this.withCookie[this.weighted(rand)]!;
    }
    return n === 1 ? this.plain[0]! : this.plain[this.weighted(rand)]!;
  }

  private weighted(rand: number | undefined): number {
    const cum = this.cumulative;
    const last = cum.length - 1;
    if (last === 0) return 0;
    const r = (rand ?? Math.random()) * this.total;
    for (let i = 0; i < last; i++) if (r < cum[i]!) return i;
    return last;
  }
}
