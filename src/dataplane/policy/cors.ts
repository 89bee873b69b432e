// CORS for a rule with `cors` (phase 100, before authentication: a preflight carries no
// credentials). The gateway answers preflights itself (204, never forwarded) and puts
// Access-Control-Allow-Origin / -Expose-Headers / -Allow-Credentials on the answers to allowed
// origins, upstream responses and the gateway's own answers alike. An origin that is not allowed
// gets no CORS headers at all, and CORS headers a backend sends are replaced by the rule's, so the
// gateway is the one place that decides.

import type { CorsIR, RouteIR } from '../../ir/snapshot.ts';
import type { RequestContext } from '../request-context.ts';
import { Answered, Continue, type RoutePolicy, type Verdict } from './types.ts';

export const CORS_PHASE = 100;

const ALLOW_ORIGIN = 'access-control-allow-origin';
const ALLOW_CREDENTIALS = 'access-control-allow-credentials';
const EXPOSE_HEADERS = 'access-control-expose-headers';
/** response headers the rule owns: a backend's copies are dropped */
const OWNED = new Set([
  ALLOW_ORIGIN,
  ALLOW_CREDENTIALS,
  EXPOSE_HEADERS,
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
]);

interface WildcardOrigin {
  /** `https://` */
  readonly scheme: string;
  /** `.example.com` or `.example.com:8443` */
  readonly suffix: string;
}

export class CorsPolicy implements RoutePolicy {
  readonly kind = 'cors';
  private readonly any: boolean;
  private readonly exact: Set<string>;
  private readonly wildcards: WildcardOrigin[];
  /** `*` may be answered as such only without credentials (browsers refuse `*` with them) */
  private readonly star: boolean;
  /** headers after Allow-Origin on a preflight answer */
  private readonly preflight: string[];
  /** headers after Allow-Origin on every other answer */
  private readonly actual: string[];

  constructor(ir: CorsIR) {
    this.any = ir.allowOrigins.includes('*');
    this.exact = new Set(ir.allowOrigins.filter((o) => o !== '*' && !o.includes('://*.')));
    this.wildcards = ir.allowOrigins
      .filter((o) => o.includes('://*.'))
      .map((o) => {
        const at = o.indexOf('://*.');
        return { scheme: o.slice(0, at + 3), suffix: o.slice(at + 4) };
      });
    this.star = this.any && !ir.allowCredentials;
    const vary = this.star ? [] : ['vary', 'origin'];
    const credentials = ir.allowCredentials ? [ALLOW_CREDENTIALS, 'true'] : [];
    this.preflight = [...vary, ...credentials];
    if (ir.allowMethods.length > 0)
      this.preflight.push('access-control-allow-methods', ir.allowMethods.join(', '));
    if (ir.allowHeaders.length > 0)
      this.preflight.push('access-control-allow-headers', ir.allowHeaders.join(', '));
    if (ir.maxAgeSeconds >= 0) this.preflight.push('access-control-max-age', String(ir.maxAgeSeconds));
    this.actual = [...vary, ...credentials];
    if (ir.exposeHeaders.length > 0) this.actual.push(EXPOSE_HEADERS, ir.exposeHeaders.join(', '));
  }

  /** `origin` as the browser sent it (scheme://host[:port]); compared case-insensitively. */
  allows(origin: string): boolean {
    if (this.any) return true;
    const o = origin.toLowerCase();
    if (this.exact.has(o)) return true;
    for (const w of this.wildcards) {
      if (!o.startsWith(w.scheme) || !o.endsWith(w.suffix)) continue;
      // at least one label before the suffix, and nothing that would make it another host or port
      const sub = o.slice(w.scheme.length, o.length - w.suffix.length);
      if (sub.length > 0 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(sub)) return true;
    }
    return false;
  }

  onRequest(rc: RequestContext): Verdict {
    const origin = rc.header('origin');
    if (origin === undefined) return Continue;
    const allowed = this.allows(origin);
    if (rc.method === 'OPTIONS' && rc.header('access-control-request-method') !== undefined) {
      // a preflight never reaches the backend; a refused origin simply gets no CORS headers
      const flat = allowed ? [ALLOW_ORIGIN, this.star ? '*' : origin, ...this.preflight] : ['vary', 'origin'];
      rc.respond(204, flat, null, allowed ? 'cors-preflight' : 'cors-origin-refused');
      return Answered;
    }
    if (allowed) {
      // also on the gateway's own answers (429, 401, 503...), so the browser shows them as such
      rc.addResponseHeader(ALLOW_ORIGIN, this.star ? '*' : origin);
      for (let i = 0; i < this.actual.length; i += 2)
        rc.addResponseHeader(this.actual[i]!, this.actual[i + 1]!);
    }
    return Continue;
  }

  /** Drop a backend's own CORS headers: only the copies this policy added remain. */
  onResponseHead(rc: RequestContext, _status: number, flat: string[]): void {
    let w = 0;
    for (let r = 0; r < flat.length; r += 2) {
      if (OWNED.has(flat[r]!.toLowerCase())) continue;
      flat[w++] = flat[r]!;
      flat[w++] = flat[r + 1]!;
    }
    flat.length = w;
    const ours = rc.responseHeaders;
    if (ours !== null)
      for (let i = 0; i < ours.length; i += 2) if (OWNED.has(ours[i]!)) flat.push(ours[i]!, ours[i + 1]!);
  }
}

export function corsPolicy(route: RouteIR): RoutePolicy | null {
  return route.cors ? new CorsPolicy(route.cors) : null;
}
