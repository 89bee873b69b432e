// External authentication per rule (auth.external), phase 210 (after JWT), like ingress-nginx's
// auth-url: a GET subrequest to the auth service with the client's listed headers plus
// X-Original-Method, X-Original-URI, X-Original-Host and X-Forwarded-For, bounded by the timeout.
// 2xx allows the request and copies the listed responseHeaders upstream (an inbound copy is always
// removed); any other answer goes back to the client as the service sent it (status, headers minus
// hop-by-hop, body up to 64 KiB; gRPC clients get UNAUTHENTICATED / PERMISSION_DENIED / UNAVAILABLE).
// An error or timeout allows (failureMode Open) or answers 503 (Closed). One undici Agent for every
// auth route, kept across snapshot swaps.

import { Agent, request } from 'undici';
import type { ExternalAuthIR, RouteIR } from '../../ir/snapshot.ts';
import { GrpcStatus, proxyError, type ProxyError } from '../errors.ts';
import { isHopByHop } from '../headers.ts';
import type { RequestContext } from '../request-context.ts';
import { edgeMetrics, type EdgeMetrics } from '../edge-metrics.ts';
import { Pending, registerPolicy, type PolicyEnv, type RoutePolicy, type Verdict } from './index.ts';

const MAX_BODY = 64 * 1024;
const grpcDenied = {
  401: proxyError(
    'BH_ERR_EXT_AUTH_DENIED',
    401,
    'ext-auth-denied',
    GrpcStatus.UNAUTHENTICATED,
    'unauthenticated',
  ),
  403: proxyError(
    'BH_ERR_EXT_AUTH_DENIED',
    403,
    'ext-auth-denied',
    GrpcStatus.PERMISSION_DENIED,
    'forbidden',
  ),
  other: proxyError('BH_ERR_EXT_AUTH_DENIED', 403, 'ext-auth-denied', GrpcStatus.PERMISSION_DENIED, 'denied'),
};
const failedClosed = {
  timeout: proxyError(
    'BH_ERR_EXT_AUTH_UNAVAILABLE',
    503,
    'ext-auth-timeout',
    GrpcStatus.UNAVAILABLE,
    'the authentication service did not answer in time',
  ),
  error: proxyError(
    'BH_ERR_EXT_AUTH_UNAVAILABLE',
    503,
    'ext-auth-error',
    GrpcStatus.UNAVAILABLE,
    'the authentication service is unavailable',
  ),
};

type Headers = Record<string, string | string[] | undefined>;

class ExternalAuth implements RoutePolicy {
  readonly kind = 'ext-auth';
  private readonly agent: Agent;
  private readonly metrics: EdgeMetrics;

  constructor(
    private readonly route: RouteIR,
    private readonly ir: ExternalAuthIR,
    env: PolicyEnv,
  ) {
    this.agent = env.keep('ext-auth-agent', () => new Agent({ connections: 64, keepAliveTimeout: 30_000 }));
    this.metrics = edgeMetrics(env.metrics);
  }

  onRequest(rc: RequestContext): Verdict {
    const headers: Record<string, string> = {
      'x-original-method': rc.method,
      'x-original-uri': rc.url,
      'x-original-host': rc.host,
      'x-forwarded-for': rc.peerIP,
    };
    for (const name of this.ir.forwardHeaders) {
      const v = rc.headers[name];
      if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
    }
    const started = performance.now();
    request(this.ir.url, {
      method: 'GET',
      headers,
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.ir.timeoutMs),
    }).then(
      (res) => this.answered(rc, started, res.statusCode, res.headers, res.body),
      (err: Error) => this.failed(rc, started, err),
    );
    return Pending;
  }

  private async answered(
    rc: RequestContext,
    started: number,
    status: number,
    headers: Headers,
    body: AsyncIterable<Buffer> & { dump(): Promise<void> },
  ): Promise<void> {
    if (status >= 200 && status < 300) {
      body.dump().catch(ignore); // frees the connection; an allowing body is never read
      this.observe(started);
      for (const name of this.ir.responseHeaders) {
        rc.dropUpstreamHeader(name);
        const v = headers[name];
        if (v !== undefined && v !== '') rc.addUpstreamHeader(name, Array.isArray(v) ? v.join(', ') : v);
      }
      this.decision('allowed', 'ext-auth-allowed');
      rc.resume();
      return;
    }
    let bytes: Buffer | null = null;
    try {
      bytes = await readBounded(body);
    } catch {
      bytes = null; // the body broke off: the status and headers still say "denied"
    }
    this.observe(started);
    this.decision('denied', `ext-auth-${status}`);
    if (rc.grpc)
      return rc.answerError(
        status === 401 ? grpcDenied[401] : status === 403 ? grpcDenied[403] : grpcDenied.other,
      );
    rc.respond(status, passBack(headers), bytes, 'ext-auth-denied');
  }

  private failed(rc: RequestContext, started: number, err: Error): void {
    this.observe(started);
    const timeout = err.name === 'TimeoutError' || err.name === 'AbortError';
    if (this.ir.failureMode === 'Open') {
      // no identity was vouched for: a client's own copy of an identity header must not pass as one
      for (const name of this.ir.responseHeaders) rc.dropUpstreamHeader(name);
      this.decision('allowed', timeout ? 'ext-auth-timeout-open' : 'ext-auth-error-open');
      rc.resume();
      return;
    }
    const e: ProxyError = timeout ? failedClosed.timeout : failedClosed.error;
    this.decision('denied', e.reason);
    rc.answerError(e);
  }

  private observe(started: number): void {
    const m = this.metrics;
    m.authServiceSeconds.labels(m.m.pool, this.route.id).observe((performance.now() - started) / 1000);
  }

  private decision(result: 'allowed' | 'denied', reason: string): void {
    const m = this.metrics;
    m.auth.labels(m.m.pool, this.route.id, 'external', result, reason).inc();
  }
}

function ignore(): void {}

/** At most MAX_BODY bytes; leaving the loop early destroys the rest of the stream. */
async function readBounded(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    const room = MAX_BODY - size;
    chunks.push(c.length > room ? c.subarray(0, room) : c);
    size += Math.min(c.length, room);
    if (size >= MAX_BODY) break;
  }
  return Buffer.concat(chunks);
}

/** The auth service's headers for the client: minus hop-by-hop and the length (recomputed). */
function passBack(headers: Headers): string[] {
  const flat: string[] = [];
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || isHopByHop(name) || name === 'content-length') continue;
    if (Array.isArray(v)) for (const x of v) flat.push(name, x);
    else flat.push(name, v);
  }
  return flat;
}

registerPolicy(210, (route, env) =>
  route.auth?.external ? new ExternalAuth(route, route.auth.external, env) : null,
);
