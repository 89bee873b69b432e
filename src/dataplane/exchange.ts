// Exchange: one proxied request from routing to the last byte. It owns the downstream side (an
// HTTP/1.1 engine response or an HTTP/2 server stream), runs upstream attempts one at a time
// (upstream-http1.ts / upstream-h2.ts call back into it), decides retries, enforces the request
// timeout and gRPC deadline, and does the accounting once when the downstream closes. Listeners
// are module-level functions that find the exchange through a symbol slot (no per-request closures).

import type { Http1Response } from './http1/response.ts';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { ProxyRuntime } from './context.ts';
import type { ClusterRuntime, RouteContext, RuntimeConfig } from './runtime-config.ts';
import type { EndpointState } from './balancer/index.ts';
import { Errors, type ProxyError } from './errors.ts';
import { answerH1, answerH2, grpcFailureTrailers } from './respond.ts';
import type { IncomingHttpHeaders } from 'node:http';
import {
  filterObjectResponseHeaders,
  flatToObject,
  h2ResponseHeaders,
  type OutgoingHeaders,
} from './headers.ts';
import { RetryCond, grpcStatusCond, statusCond } from './retry.ts';
import { startAttempt, type Attempt } from './attempt.ts';
import { Fail } from './upstream-errors.ts';
import type { RequestContext } from './request-context.ts';
import type { GrpcWebResponse } from './policy/grpc-web.ts';
import { GRPC_NONE, GRPC_UNKNOWN, grpcStatusIndex, grpcStatusLabel } from './metrics.ts';

export const kExchange = Symbol('bulkhead.exchange');

/** request bodies up to this size can be replayed by a retry */
export const REPLAY_MAX = 64 * 1024;

const FAIL_COND = [
  0,
  RetryCond.connectFailure,
  RetryCond.connectFailure,
  RetryCond.reset,
  RetryCond.refusedStream,
  0,
  0,
];
const FAIL_ERR: ProxyError[] = [
  Errors.upstreamProtocol,
  Errors.connectFailure,
  Errors.upstreamTimeout,
  Errors.upstreamReset,
  Errors.upstreamReset,
  Errors.upstreamTimeout,
  Errors.upstreamProtocol,
];

// respond() copies its options: one constant object per case instead of one per response (not
// frozen: a frozen object takes the slow path of that copy's object spread)
const RESPOND_ENDED = { endStream: true, waitForTrailers: false };
const RESPOND_TRAILERS = { endStream: false, waitForTrailers: true };
const RESPOND_OPEN = { endStream: false, waitForTrailers: false };

export class Exchange {
  attempt: Attempt | null = null;
  attempts = 0;
  /** request body: null (none), a Buffer (replayable) or the downstream stream (one try only) */
  body: Buffer | Readable | null = null;
  headSent = false;
  responseEnded = false;
  done = false;
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  upstreamMs = 0;
  reason: string | null = null;
  /** grpc_status index for metrics and the access log (metrics.ts); GRPC_NONE for non-gRPC */
  grpcStatus: number;
  /** trailers waiting for the h2 downstream's 'wantTrailers' */
  trailers: OutgoingHeaders | null = null;
  ep: EndpointState | null = null;
  readonly started = performance.now();
  private timer: NodeJS.Timeout | null = null;
  /** armed while a streamed request body is being sent; refreshed by every chunk */
  private sendTimer: NodeJS.Timeout | null = null;
  private timerErr: ProxyError = Errors.requestTimeout;
  /**
   * copy of a streamed request body of unknown length, kept (up to REPLAY_MAX) on routes with
   * retries: gRPC clients send no content-length, and a retry needs the body again
   */
  private replay: Buffer[] | null = null;
  private replayBytes = 0;
  private replayDone = false;
  private retryHeld = false;
  private budgetRefused = false;
  private drainHooked = false;
  private pausedBy: Attempt | null = null;

  readonly rt: ProxyRuntime;
  readonly cfg: RuntimeConfig;
  readonly ctx: RouteContext;
  readonly res: Http1Response | null;
  readonly stream: ServerHttp2Stream | null;
  readonly method: string;
  readonly host: string;
  /** request target as the client sent it, for the access log */
  readonly url: string;
  readonly grpc: boolean;
  /** gRPC-Web: the response is translated back to the client's mode (policy/grpc-web.ts) */
  readonly web: GrpcWebResponse | null;
  readonly teTrailers: boolean;

  constructor(
    /** the request, routed and through its policy chain */
    readonly rc: RequestContext,
    readonly cluster: ClusterRuntime,
    readonly hashKey: string | undefined,
    /** path + query as sent upstream (rewritten) */
    readonly path: string,
    readonly authority: string,
    readonly headers: OutgoingHeaders,
    readonly requestId: string,
    readonly setCookie: string | null,
    /** ms until the gRPC deadline, 0 = none */
    deadlineMs: number,
  ) {
    this.rt = rc.rt;
    this.cfg = rc.cfg!;
    this.ctx = rc.route!;
    const res = (this.res = rc.res);
    const stream = (this.stream = rc.stream);
    this.method = rc.method;
    this.host = rc.host;
    this.url = rc.url;
    this.grpc = rc.grpc;
    this.web = rc.grpcWeb;
    if (this.web !== null) delete headers['content-length']; // the -text body shrinks when decoded
    const te = rc.headers.te;
    this.teTrailers = typeof te === 'string' && te.includes('trailers');
    this.grpcStatus = rc.grpc ? GRPC_UNKNOWN : GRPC_NONE;
    const down = (res ?? stream) as unknown as Record<symbol, Exchange>;
    down[kExchange] = this;
    // h2 streams: h2-guard.ts gave them an 'error' listener before any handler ran, and its 'close'
    // listener calls complete() (one listener per stream instead of two)
    if (res !== null) res.on('close', onDownstreamClose);
    const reqMs = this.ctx.requestMs;
    if (deadlineMs > 0 && (reqMs === 0 || deadlineMs <= reqMs)) {
      this.timerErr = Errors.deadlineExceeded;
      this.timer = setTimeout(onExchangeTimer, deadlineMs, this);
    } else if (reqMs > 0) this.timer = setTimeout(onExchangeTimer, reqMs, this);
  }

  /** Pick an endpoint and run one attempt; the first call and every retry go through here. */
  next(): void {
    if (this.done || this.responseEnded) return;
    const now = Date.now();
    const ep = this.cluster.balancer.pick(
      this.hashKey === undefined ? undefined : { hashKey: this.hashKey },
      now,
    );
    if (ep === null) return this.fail(Errors.noHealthyUpstream);
    this.ep = ep;
    this.attempts++;
    // h2c attempts watch a streamed body's send timeout themselves (upstream-h2.ts, h2-idle.ts)
    const streamed = this.body !== null && !Buffer.isBuffer(this.body);
    if (this.attempts === 1 && streamed && this.ctx.sendMs > 0 && !this.cluster.h2) {
      this.sendTimer = setTimeout(onSendTimer, this.ctx.sendMs, this);
    }
    startAttempt(this, ep);
  }

  /**
   * Response head from the current attempt; false when it was discarded for a retry. `endStream`:
   * the upstream's HEADERS ended the stream (a gRPC trailers-only answer), so ours must as well.
   */
  onHead(a: Attempt, status: number, flat: string[], endStream = false): boolean {
    if (a !== this.attempt || this.done) return false;
    let cond = statusCond(status);
    // a trailers-only gRPC answer's status is a retry condition (unavailable, internal, ...)
    if (cond === 0 && this.grpc && this.ctx.retry !== null) cond = grpcRetryCond(flat);
    if (!this.takeHead(a, status, cond)) return false;
    if (this.grpc) this.grpcStatus = grpcStatusOf(flat); // trailers-only answers carry it here
    if (this.setCookie !== null) flat.push('set-cookie', this.setCookie);
    const extra = this.rc.responseHeaders;
    if (extra !== null) for (let i = 0; i < extra.length; i++) flat.push(extra[i]!);
    const hooks = this.ctx.responseHooks;
    if (hooks !== null)
      for (let i = 0; i < hooks.length; i++) hooks[i]!.onResponseHead!(this.rc, status, flat);
    if (this.web !== null) this.web.head(flat);
    if (this.res !== null) {
      this.res.sendDate = false;
      if (this.rt.draining) this.res.shouldKeepAlive = false;
      this.res.writeHead(status, flat);
    } else {
      const s = this.stream!;
      if (s.destroyed || s.closed) return false;
      // gRPC-Web sends its trailers as the body's last frame
      const wantTrailers = !endStream && this.web === null && (this.grpc || this.teTrailers);
      s.respond(flatToObject(flat, { ':status': String(status) }), {
        endStream,
        waitForTrailers: wantTrailers,
      });
      if (wantTrailers) s.on('wantTrailers', onWantTrailers);
    }
    return true;
  }

  /** A response head with retry condition `cond` (0 = none): retried (false), or the answer from now on. */
  private takeHead(a: Attempt, status: number, cond: number): boolean {
    if (cond !== 0 && this.canRetry(cond)) {
      this.endAttempt(a, false);
      a.cancel();
      this.retry();
      return false;
    }
    this.headSent = true;
    this.status = status;
    this.upstreamMs = performance.now() - a.started;
    return true;
  }

  /**
   * Response head from an h2c attempt, as node:http2 gave it. An h2 downstream with nothing to add to
   * it (no affinity cookie, policy headers, response hooks or gRPC-Web: a plain gRPC route) gets one
   * filtered object built in one pass; everything else goes through onHead's flat list.
   */
  onH2Head(a: Attempt, status: number, src: IncomingHttpHeaders, raw: string[], endStream: boolean): boolean {
    const s = this.stream;
    if (
      s === null ||
      this.setCookie !== null ||
      this.rc.responseHeaders !== null ||
      this.ctx.responseHooks !== null ||
      this.web !== null
    )
      return this.onHead(a, status, filterObjectResponseHeaders(src, []), endStream);
    if (a !== this.attempt || this.done) return false;
    const gs = src['grpc-status'];
    const grpcStatus = Array.isArray(gs) ? gs[0] : gs;
    let cond = statusCond(status);
    if (cond === 0 && this.grpc && this.ctx.retry !== null) cond = grpcStatusCond(grpcStatus);
    if (!this.takeHead(a, status, cond)) return false;
    if (this.grpc) this.grpcStatus = grpcStatusIndex(grpcStatus);
    if (s.destroyed || s.closed) return false;
    const wantTrailers = !endStream && (this.grpc || this.teTrailers);
    s.respond(
      h2ResponseHeaders(src, raw, status),
      endStream ? RESPOND_ENDED : wantTrailers ? RESPOND_TRAILERS : RESPOND_OPEN,
    );
    if (wantTrailers) s.on('wantTrailers', onWantTrailers);
    return true;
  }

  /** One body chunk; false asks the attempt to pause until the downstream drains. */
  onData(a: Attempt, chunk: Buffer): boolean {
    if (a !== this.attempt || this.done) return true;
    this.bytesOut += chunk.length;
    if (this.web !== null) chunk = this.web.data(chunk);
    const ok = this.res !== null ? this.res.write(chunk) : this.stream!.write(chunk);
    if (ok) return true;
    this.pausedBy = a;
    if (!this.drainHooked) {
      this.drainHooked = true;
      (this.res ?? this.stream!).on('drain', onDownstreamDrain);
    }
    return false;
  }

  resumeUpstream(): void {
    const a = this.pausedBy;
    this.pausedBy = null;
    if (a !== null && a === this.attempt) a.resume();
  }

  onEnd(a: Attempt, trailers: OutgoingHeaders | null): void {
    if (a !== this.attempt || this.done) return;
    this.endAttempt(a, this.status < 500);
    this.responseEnded = true;
    this.clearTimer();
    if (this.grpc && trailers !== null) this.grpcStatus = grpcStatusIndex(trailers['grpc-status']);
    if (this.web !== null) return this.endWeb(trailers ?? {});
    if (this.res !== null) {
      if (trailers !== null) this.res.addTrailers(trailers);
      this.res.end();
    } else {
      this.trailers = trailers;
      const s = this.stream!;
      if (!s.destroyed && !s.writableEnded) s.end();
    }
  }

  /** gRPC-Web: the trailers as the last frame of the body, then the end. */
  private endWeb(trailers: OutgoingHeaders): void {
    const frame = this.web!.end(trailers);
    this.bytesOut += frame.length;
    const down = this.res ?? this.stream!;
    if (!down.destroyed && !down.writableEnded) down.end(frame);
  }

  onError(a: Attempt, kind: Fail): void {
    if (a !== this.attempt || this.done) return;
    this.endAttempt(a, false);
    if (kind === Fail.connect || kind === Fail.connectTimeout)
      this.rt.metrics.upstreamConnectErrors.labels(this.cfg.pool, this.cluster.name).inc();
    if (!this.headSent && this.canRetry(FAIL_COND[kind]!)) return this.retry();
    this.fail(this.budgetRefused ? Errors.retryBudget : FAIL_ERR[kind]!);
  }

  private canRetry(cond: number): boolean {
    const p = this.ctx.retry;
    if (p === null || cond === 0 || (p.on & cond) === 0 || this.attempts > p.attempts) return false;
    if (this.body !== null && !Buffer.isBuffer(this.body) && (this.replay === null || !this.replayDone))
      return false;
    if (this.retryHeld) return true; // one budget slot covers all retries of this request
    if (!this.rt.budget.tryAcquire(p, Date.now(), this.rt.overload.active)) {
      this.ctx.metrics.retry(false);
      this.budgetRefused = true;
      return false;
    }
    this.retryHeld = true;
    return true;
  }

  private retry(): void {
    this.ctx.metrics.retry(true);
    if (this.replay !== null) {
      this.body = this.replay.length === 1 ? this.replay[0]! : Buffer.concat(this.replay);
      this.replay = null;
    }
    this.next();
  }

  /** Keep copies of the body chunks the first attempt streams (see `replay`). */
  startReplay(): void {
    this.replay = [];
  }

  replayChunk(chunk: Buffer): void {
    if (this.replay === null) return;
    this.replayBytes += chunk.length;
    if (this.replayBytes > REPLAY_MAX)
      this.replay = null; // too big to keep: this request is not retried
    else this.replay.push(chunk);
  }

  replayEnd(): void {
    this.replayDone = true;
  }

  private endAttempt(a: Attempt, ok: boolean): void {
    this.attempt = null;
    const now = Date.now();
    this.cluster.balancer.onEnd(a.ep, performance.now() - a.started, ok, now);
    this.cluster.outlier?.record(a.ep, ok, now);
  }

  /** Answer with a proxy error, or cut the response when its head already went out. */
  fail(err: ProxyError): void {
    if (this.done) return;
    const a = this.attempt;
    if (a !== null) {
      this.endAttempt(a, false);
      a.cancel();
    }
    this.reason = err.reason;
    this.responseEnded = true;
    this.clearTimer();
    if (this.grpc) this.grpcStatus = grpcStatusIndex(err.grpcStatus);
    if (!this.headSent) {
      this.headSent = true;
      this.status = this.grpc ? 200 : err.status;
      // headers the route's policies added (CORS) belong on the gateway's own answers too
      const extra = this.rc.responseHeaders;
      if (this.res !== null) answerH1(this.res, err, this.grpc, this.requestId, extra);
      else answerH2(this.stream!, err, this.grpc, this.requestId, extra);
    } else if (this.web !== null) this.endWeb(grpcFailureTrailers(err));
    else if (this.res !== null) this.res.destroy();
    else if (this.grpc && !this.stream!.destroyed) {
      this.trailers = grpcFailureTrailers(err);
      this.stream!.end();
    } else this.stream!.close(2 /* NGHTTP2_INTERNAL_ERROR */);
  }

  onBodyBytes(n: number): void {
    this.bytesIn += n;
    this.sendTimer?.refresh();
  }

  /** the whole request body went upstream: the send timeout no longer applies */
  onBodyDone(): void {
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.sendTimer = null;
  }

  clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.onBodyDone();
  }

  onTimer(): void {
    this.timer = null;
    this.fail(this.timerErr);
  }

  /** The downstream closed (response done, or the client went away): cancel upstream, account once. */
  complete(): void {
    if (this.done) return;
    if (!this.responseEnded) {
      // client went away mid-request: the upstream attempt is cancelled (h2: RST_STREAM CANCEL)
      const a = this.attempt;
      if (a !== null) {
        this.endAttempt(a, true);
        a.cancel();
      }
      if (!this.headSent) this.status = 499;
      this.reason ??= 'client-closed';
    }
    this.done = true;
    this.clearTimer();
    const rt = this.rt;
    if (this.retryHeld) rt.budget.release();
    const ms = performance.now() - this.started;
    const m = this.ctx.metrics;
    m.request(this.cluster.name, this.status, this.grpcStatus);
    m.observe(ms / 1000, this.grpcStatus);
    if (rt.accessLog.sampled()) {
      rt.accessLog.write({
        requestId: this.requestId,
        protocol: this.res !== null ? 'http1' : 'h2',
        method: this.method,
        host: this.host,
        path: this.url,
        route: this.ctx.id,
        cluster: this.cluster.name,
        upstream: this.ep === null ? null : this.ep.key,
        status: this.status,
        durationMs: Math.round(ms * 1000) / 1000,
        upstreamMs: Math.round(this.upstreamMs * 1000) / 1000,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        retries: this.attempts > 1 ? this.attempts - 1 : 0,
        reason: this.reason,
        grpcStatus: grpcStatusLabel(this.grpcStatus),
      });
    }
    rt.overload.active--;
  }
}

function grpcStatusOf(flat: string[]): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === 'grpc-status') return grpcStatusIndex(flat[i + 1]);
  return GRPC_UNKNOWN;
}

function grpcRetryCond(flat: string[]): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === 'grpc-status') return grpcStatusCond(flat[i + 1]);
  return 0;
}

function exchangeOf(x: object): Exchange {
  return (x as Record<symbol, Exchange>)[kExchange]!;
}
function onDownstreamClose(this: Http1Response | ServerHttp2Stream): void {
  exchangeOf(this).complete();
}
function onDownstreamDrain(this: Http1Response | ServerHttp2Stream): void {
  exchangeOf(this).resumeUpstream();
}
function onWantTrailers(this: ServerHttp2Stream): void {
  const ex = exchangeOf(this);
  this.sendTrailers(ex.trailers ?? {});
}
function onExchangeTimer(ex: Exchange): void {
  ex.onTimer();
}
function onSendTimer(ex: Exchange): void {
  ex.onBodyDone();
  ex.fail(Errors.sendTimeout);
}
