// The compiled route table of one PoolSnapshot. Built once when a snapshot arrives (every matcher
// compiled, host groups resolved, backend picks prepared), then swapped in by reference; match()
// walks one host group's routes in the compiler's precedence order and takes the first that fits.

import type { IncomingHttpHeaders } from 'node:http';
import type { PoolSnapshot, RouteIR } from '../../ir/snapshot.ts';
import { BackendPicker, type BackendPick } from './backend-picker.ts';
import { HostIndex } from './host-index.ts';
import { CompiledMatch, PATH_ANY, PATH_PREFIX, stringMatchFits } from './route-match.ts';
import { headerValue, parseCookies, parseQuery } from './request-values.ts';

export type { BackendPick } from './backend-picker.ts';
export { stickyToken } from './backend-picker.ts';
export { RouteTableError } from './route-match.ts';
export { normalizeHost } from './host-index.ts';

export interface RouteRequest {
  /** from :authority or Host, may include :port (stripped) and any case */
  host: string;
  /** path without the query string */
  path: string;
  /** raw query string without '?', '' if none */
  query: string;
  method: string;
  /** lower-case names */
  headers: IncomingHttpHeaders;
}

export interface CompiledRoute {
  readonly id: string;
  readonly ir: RouteIR;
  /** weighted backend, honouring the sticky cookie; null when ir.backends is empty */
  pickBackend(cookieHeader: string | undefined, rand?: number): BackendPick | null;
  /** path after rewrite.replacePrefix (PathPrefix matches only; the query is not part of it) */
  rewritePath(path: string): string;
  readonly hostRewrite: string | null;
}

class RouteEntry implements CompiledRoute {
  readonly id: string;
  readonly ir: RouteIR;
  readonly hostRewrite: string | null;
  readonly match: CompiledMatch;
  private readonly picker: BackendPicker;
  /** replacePrefix without its trailing slash, or null when the path is never rewritten */
  private readonly replaceWith: string | null;

  constructor(ir: RouteIR) {
    this.id = ir.id;
    this.ir = ir;
    this.match = new CompiledMatch(ir.id, ir.match);
    this.picker = new BackendPicker(ir);
    this.hostRewrite = ir.rewrite?.hostname || null;
    const replace = ir.rewrite?.replacePrefix ?? null;
    const prefixMatch = ir.match.path?.type === 'PathPrefix';
    this.replaceWith = replace !== null && prefixMatch ? replace.replace(/\/+$/, '') : null;
  }

  pickBackend(cookieHeader: string | undefined, rand?: number): BackendPick | null {
    return this.picker.pick(cookieHeader, rand);
  }

  rewritePath(path: string): string {
    if (this.replaceWith === null) return path;
    const m = this.match;
    // the matched prefix is removed whole; what remains is '' or starts with '/'
    const rest = m.pathKind === PATH_PREFIX ? path.slice(m.pathValue.length) : path;
    const out = this.replaceWith + rest;
    return out === '' ? '/' : out;
  }
}

export class RouteTable {
  readonly size: number;
  private readonly hosts: HostIndex<RouteEntry>;
  // per-match scratch: cookies and query are parsed at most once per match() and only when needed
  private readonly cookies = new Map<string, string>();
  private readonly queryParams = new Map<string, string>();
  private cookiesParsed = false;
  private queryParsed = false;

  private constructor(routes: RouteIR[]) {
    const entries = routes.map((ir) => ({ route: new RouteEntry(ir), hostnames: ir.hostnames }));
    this.hosts = new HostIndex(entries);
    this.size = entries.length;
  }

  /** Compiles every matcher; throws RouteTableError (code BH_ERR_ROUTE_TABLE) on a bad regex. */
  static build(snapshot: PoolSnapshot): RouteTable {
    return new RouteTable(snapshot.routes);
  }

  match(req: RouteRequest): CompiledRoute | null {
    const group = this.hosts.lookup(req.host);
    if (group.length === 0) return null;
    this.cookiesParsed = false;
    this.queryParsed = false;
    for (let i = 0; i < group.length; i++) {
      const r = group[i]!;
      if (this.fits(r.match, req)) return r;
    }
    return null;
  }

  private fits(m: CompiledMatch, req: RouteRequest): boolean {
    if (m.pathKind !== PATH_ANY && !m.pathFits(req.path)) return false;
    if (m.method !== null && m.method !== req.method) return false;
    if (m.headers !== null) {
      for (const h of m.headers) if (!stringMatchFits(h, headerValue(req.headers, h.name))) return false;
    }
    if (m.cookies !== null) {
      if (!this.cookiesParsed) {
        this.cookies.clear();
        parseCookies(headerValue(req.headers, 'cookie'), this.cookies);
        this.cookiesParsed = true;
      }
      for (const c of m.cookies) if (this.cookies.get(c.name) !== c.value) return false;
    }
    if (m.query !== null) {
      if (!this.queryParsed) {
        this.queryParams.clear();
        parseQuery(req.query, this.queryParams);
        this.queryParsed = true;
      }
      for (const q of m.query) if (!stringMatchFits(q, this.queryParams.get(q.name))) return false;
    }
    return true;
  }
}
