// listener.tls.redirectHTTP: a request that reached a route over the plaintext port gets
// `308 Permanent Redirect` to the same host, path and query on the HTTPS port (308 keeps the method
// and body, unlike 301/302). Phase 50: before CORS and authentication, so no credential is ever
// checked (or sent on) over plaintext. Requests that match no route keep their plain 404.

import { isTlsRequest } from '../client-cert.ts';
import type { RequestContext } from '../request-context.ts';
import { Answered, Continue, registerPolicy, type RoutePolicy, type Verdict } from './index.ts';

class HttpsRedirect implements RoutePolicy {
  readonly kind = 'https-redirect';
  /** `:<port>` or '' for 443 */
  private readonly portSuffix: string;

  constructor(port: number) {
    this.portSuffix = port === 443 ? '' : `:${port}`;
  }

  onRequest(rc: RequestContext): Verdict {
    if (isTlsRequest(rc)) return Continue;
    const host = stripPort(rc.host);
    const target =
      rc.url.charCodeAt(0) === 47 /* / */ ? rc.url : rc.query === '' ? rc.path : `${rc.path}?${rc.query}`;
    rc.respond(308, ['location', `https://${host}${this.portSuffix}${target}`], null, 'https-redirect');
    return Answered;
  }
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

registerPolicy(50, (_route, env) => {
  const tls = env.snapshot.listener.tls;
  return tls !== null && tls.redirectHTTP ? new HttpsRedirect(tls.port) : null;
});
