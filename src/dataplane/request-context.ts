// RequestContext: the one object a request carries from the listener to the upstream attempt. The
// listener fills in what the client sent (method, normalised path, headers, peer address, the
// downstream handle); routing adds the route; policies read it, add headers either way, answer the
// request themselves, or suspend it and resume later. Exchange (exchange.ts) takes it over once a
// backend is chosen. Policies call methods on it; they never touch the downstream handle directly.

import type { IncomingHttpHeaders } from 'node:http';
import type { Http1Response } from './http1/response.ts';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import type { ProxyRuntime } from './context.ts';
import type { RouteContext, RuntimeConfig } from './runtime-config.ts';
import type { CompiledRoute } from './router/route-table.ts';
import { GRPC_NONE, GRPC_UNKNOWN, grpcStatusIndex, grpcStatusLabel, type RouteMetrics } from './metrics.ts';
import type { ProxyError } from './errors.ts';
import type { GrpcWebResponse } from './policy/grpc-web.ts';
import { answerH1, answerH2, answerRaw } from './respond.ts';

export const kRequestContext = Symbol('bulkhead.requestContext');

const BAD_FIELD_VALUE = /[\r\n\0]/;

export class RequestContext {
  cfg: RuntimeConfig | null = null;
  route: RouteContext | null = null;
  match: CompiledRoute | null = null;
  /** next policy to run in the route's chain */
  step = 0;
  /** extra request headers for the upstream (flat name/value pairs), added by policies */
  upstreamHeaders: string[] | null = null;
  /** extra response headers for the client (flat name/value pairs), added by policies */
  responseHeaders: string[] | null = null;
  /** a policy suspended the request (asynchronous work in flight) */
  pending = false;
  /** the client went away while the request was suspended */
  aborted = false;
  /** the request was answered without an upstream (by a policy or the proxy) */
  answered = false;
  /**
   * What a request that passed its whole chain does next when it is not a plain request (a
   * WebSocket upgrade opens its tunnel); null: the route's exchange. A module-level function.
   */
  passTo: ((rc: RequestContext) => void) | null = null;
  /** set by the gRPC-Web policy: the Exchange translates the response back (policy/grpc-web.ts) */
  grpcWeb: GrpcWebResponse | null = null;
  /** h2: node:http2's flat [name, value, ...] list of `headers` (upstream headers are built from it) */
  rawHeaders: string[] | null = null;
  /** for policies: the client address after trusted X-Forwarded-For hops (computed on demand) */
  private forwardedFor: string[] | null = null;

  constructor(
    readonly rt: ProxyRuntime,
    readonly res: Http1Response | null,
    readonly stream: ServerHttp2Stream | null,
    readonly method: string,
    /** Host / :authority as sent */
    readonly host: string,
    /** normalised path (what routing and policies saw, and what goes upstream) */
    readonly path: string,
    /** query string without `?` */
    readonly query: string,
    /** the request target as the client sent it (access log) */
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    /** the TCP peer (never a header) */
    readonly peerIP: string,
    readonly grpc: boolean,
    /** a policy may replace it with a transformed stream (gRPC-Web text mode) */
    public body: Readable | null,
    readonly contentLength: number,
  ) {}

  get protocol(): 'http1' | 'h2' {
    return this.res !== null ? 'http1' : 'h2';
  }

  /**
   * A header for the upstream request. Values come from outside the proxy's parsers (a JWT claim,
   * an external auth service's answer); one that could not be a field value (CR, LF, NUL) is not
   * added, so no policy can split the upstream request, whatever the upstream's protocol.
   */
  addUpstreamHeader(name: string, value: string): void {
    if (BAD_FIELD_VALUE.test(value)) return;
    (this.upstreamHeaders ??= []).push(name, value);
  }

  /** Remove a header the client sent before the request goes upstream (claim headers, tokens). */
  dropUpstreamHeader(name: string): void {
    (this.upstreamHeaders ??= []).push(name, '');
  }

  addResponseHeader(name: string, value: string): void {
    (this.responseHeaders ??= []).push(name, value);
  }

  /** First value of a request header (lower-case name), or undefined. */
  header(name: string): string | undefined {
    const v = this.headers[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /**
   * The client address `trustedHops` proxies in front of us vouch for: with 0 the TCP peer; with n,
   * the n-th address from the right of X-Forwarded-For (the peer's own entry is the first hop). With
   * fewer entries than hops the left-most one is used (the furthest any trusted proxy saw).
   */
  clientIP(trustedHops: number): string {
    if (trustedHops <= 0) return this.peerIP;
    if (this.forwardedFor === null) {
      const xff = this.headers['x-forwarded-for'];
      const joined = Array.isArray(xff) ? xff.join(',') : (xff ?? '');
      this.forwardedFor = joined === '' ? [] : joined.split(',').map((s) => s.trim());
    }
    const list = this.forwardedFor;
    if (list.length === 0) return this.peerIP;
    const i = list.length - trustedHops;
    return list[i < 0 ? 0 : i]!;
  }

  /** Resume a suspended request: run the rest of the chain, then the route. */
  resume(): void {
    if (!this.pending) return;
    this.pending = false;
    if (this.aborted || this.answered) return;
    proceed(this);
  }

  /** Answer with a coded proxy error (gRPC requests get the trailers-only form). */
  answerError(err: ProxyError, extra: string[] | null = null): void {
    if (this.answered) return;
    this.answered = true;
    this.pending = false;
    if (this.aborted) return;
    const flat = mergeFlat(this.responseHeaders, extra);
    if (this.res !== null) answerH1(this.res, err, this.grpc, null, flat);
    else answerH2(this.stream!, err, this.grpc, null, flat);
    finishLocal(
      this,
      this.grpc ? 200 : err.status,
      err.reason,
      err.body.length,
      this.grpc ? grpcStatusIndex(err.grpcStatus) : GRPC_NONE,
    );
  }

  /** Answer with any status, headers (flat pairs) and body: 401 challenges, CORS preflights, auth denials. */
  respond(status: number, flat: string[], body: Buffer | null, reason: string): void {
    if (this.answered) return;
    this.answered = true;
    this.pending = false;
    if (this.aborted) return;
    answerRaw(this.res, this.stream, status, mergeFlat(this.responseHeaders, flat) ?? [], body);
    finishLocal(
      this,
      status,
      reason,
      body === null ? 0 : body.length,
      this.grpc ? grpcStatusOfFlat(flat) : GRPC_NONE,
    );
  }

  /** metrics of the matched route, or of unrouted answers */
  get metrics(): RouteMetrics {
    return this.route !== null ? this.route.metrics : this.rt.unrouted;
  }
}

function grpcStatusOfFlat(flat: string[]): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === 'grpc-status') return grpcStatusIndex(flat[i + 1]);
  return GRPC_UNKNOWN;
}

function mergeFlat(a: string[] | null, b: string[] | null): string[] | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.concat(b);
}

/** Accounting for an answer made without an upstream. */
export function finishLocal(
  rc: RequestContext,
  status: number,
  reason: string,
  bytesOut: number,
  /** grpc_status index (metrics.ts), GRPC_NONE for non-gRPC requests */
  grpcStatus = GRPC_NONE,
): void {
  const m = rc.metrics;
  m.request('', status, grpcStatus);
  const rt = rc.rt;
  if (rt.accessLog.sampled()) {
    const path = rc.url;
    rt.accessLog.write({
      requestId: '',
      protocol: rc.protocol,
      method: rc.method,
      host: rc.host,
      path: path.length > 1024 ? path.slice(0, 1024) : path,
      route: m.routeId === '' ? null : m.routeId,
      cluster: null,
      upstream: null,
      status,
      durationMs: 0,
      upstreamMs: 0,
      bytesIn: 0,
      bytesOut,
      retries: 0,
      reason,
      grpcStatus: grpcStatusLabel(grpcStatus),
    });
  }
}

// proxy.ts registers how a resumed request continues (avoids an import cycle with the policies)
let proceed: (rc: RequestContext) => void = () => {
  throw new Error('request path not initialised');
};
export function setProceed(fn: (rc: RequestContext) => void): void {
  proceed = fn;
}
