// Envoy virtual-host style host selection: exact host group, else the longest matching wildcard
// group, else the any-host group. Routes with `hostnames: []` belong to every group, in their
// precedence position, so each group is a complete ordered route list on its own.

/** Lower-cases, strips a port (also after an IPv6 literal's `]`) and one trailing dot. */
export function normalizeHost(raw: string): string {
  let h = raw;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const close = h.indexOf(']');
    if (close !== -1) h = h.slice(0, close + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1 && colon === h.indexOf(':')) h = h.slice(0, colon);
  }
  if (h.charCodeAt(h.length - 1) === 46 /* . */) h = h.slice(0, -1);
  return h.toLowerCase();
}

// Hosts seen recently → their group. Bounded: cleared when full, so a flood of random Host headers
// costs at most one map's worth of memory.
const CACHE_LIMIT = 4096;

export class HostIndex<R> {
  private readonly exact = new Map<string, R[]>();
  /** keyed by the suffix with its leading dot: `*.example.com` → `.example.com` */
  private readonly wildcard = new Map<string, R[]>();
  private readonly any: R[] = [];
  private readonly cache = new Map<string, R[]>();

  /** `routes` in precedence order, with their hostnames (lower-case, exact or `*.` wildcard). */
  constructor(input: { route: R; hostnames: string[] }[]) {
    // the compiler lower-cases hostnames; doing it again here keeps the index correct on its own
    const routes = input.map((r) => ({ route: r.route, hostnames: r.hostnames.map((h) => h.toLowerCase()) }));
    for (const { hostnames } of routes) {
      for (const h of hostnames) {
        if (h === '*') continue;
        if (h.startsWith('*.')) this.wildcard.set(h.slice(1), []);
        else this.exact.set(h, []);
      }
    }
    for (const { route, hostnames } of routes) {
      const named = hostnames.filter((h) => h !== '*');
      if (named.length === 0) {
        this.any.push(route);
        for (const g of this.exact.values()) g.push(route);
        for (const g of this.wildcard.values()) g.push(route);
        continue;
      }
      for (const h of named) {
        const g = h.startsWith('*.') ? this.wildcard.get(h.slice(1))! : this.exact.get(h)!;
        if (g[g.length - 1] !== route) g.push(route);
      }
    }
  }

  /** The ordered candidate routes for a request's Host / :authority value (may be empty). */
  lookup(rawHost: string): R[] {
    const cached = this.cache.get(rawHost);
    if (cached !== undefined) return cached;
    const group = this.resolve(normalizeHost(rawHost));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(rawHost, group);
    return group;
  }

  private resolve(host: string): R[] {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      // the first dot after a non-empty label gives the longest suffix, so the first hit is the longest match
      for (let i = host.indexOf('.', 1); i !== -1; i = host.indexOf('.', i + 1)) {
        const g = this.wildcard.get(host.slice(i));
        if (g !== undefined) return g;
      }
    }
    return this.any;
  }
}
