// h2c upstream attempt: one stream on the endpoint's shared session. Used for clusters with protocol
// H2C whatever the downstream protocol, and the path gRPC takes: trailers pass through, downstream
// cancellation becomes RST_STREAM(CANCEL) here, a refused stream (REFUSED_STREAM or GOAWAY before
// processing) is the `refused-stream` retry condition.

import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { EndpointState } from './balancer/index.ts';
import type { Exchange } from './exchange.ts';
import type { H2Endpoint } from './upstreams.ts';
import { filterObjectResponseHeaders, filterTrailers, type OutgoingHeaders } from './headers.ts';
import { Fail, classifyUndiciError } from './upstream-errors.ts';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const kAttempt = Symbol('bulkhead.h2attempt');

export class H2Attempt {
  readonly started = performance.now();
  private s: http2.ClientHttp2Stream | null = null;
  private finished = false;
  private gotHead = false;
  private err: Error | null = null;
  private trailers: OutgoingHeaders | null = null;

  constructor(
    private readonly ex: Exchange,
    readonly ep: EndpointState,
    private readonly up: H2Endpoint,
  ) {}

  start(): void {
    const ex = this.ex;
    const h = ex.headers as http2.OutgoingHttpHeaders;
    h[':method'] = ex.method;
    h[':path'] = ex.path;
    h[':scheme'] = this.up.scheme;
    h[':authority'] = ex.authority;
    const body = ex.body;
    let s: http2.ClientHttp2Stream;
    try {
      s = this.up.get().request(h, { endStream: body === null });
    } catch (err) {
      this.finished = true;
      const code = (err as { code?: string }).code;
      return this.ex.onError(
        this,
        code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_INVALID_SESSION'
          ? Fail.refused
          : Fail.connect,
      );
    }
    this.s = s;
    (s as unknown as Record<symbol, H2Attempt>)[kAttempt] = this;
    s.on('response', onResponse);
    s.on('data', onData);
    s.on('trailers', onTrailers);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
    if (ex.ctx.readMs > 0) s.setTimeout(ex.ctx.readMs, onTimeout);
    if (body === null) return;
    if (Buffer.isBuffer(body)) s.end(body);
    else pipeBody(body, s, ex);
  }

  response(headers: IncomingHttpHeaders, flags: number): void {
    if (this.finished) return;
    const status = Number(headers[':status']);
    if (status < 200) return;
    this.gotHead = true;
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    if (!this.ex.onHead(this, status, filterObjectResponseHeaders(headers, []), endStream)) this.cancel();
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    if (!this.ex.onData(this, chunk)) this.s!.pause();
  }

  gotTrailers(headers: IncomingHttpHeaders): void {
    this.trailers = filterTrailers(headers);
  }

  end(): void {
    if (this.finished || !this.gotHead) return;
    this.finished = true;
    this.ex.onEnd(this, this.trailers);
  }

  error(err: Error): void {
    this.err ??= err;
  }

  closed(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.s!;
    let kind: Fail = Fail.reset;
    if (this.err !== null && !this.up.connected && !this.gotHead)
      kind = classifyUndiciError(this.err) === Fail.connectTimeout ? Fail.connectTimeout : Fail.connect;
    else if (s.rstCode === NGHTTP2_REFUSED_STREAM) kind = Fail.refused;
    else if (this.err !== null && (this.err as { code?: string }).code === 'ERR_HTTP2_GOAWAY_SESSION')
      kind = Fail.refused;
    else if (!this.up.connected && !this.gotHead && s.id === undefined) kind = Fail.connect;
    this.ex.onError(this, kind);
  }

  timedOut(): void {
    if (this.finished || this.s!.isPaused()) return; // paused by downstream backpressure: not the upstream's fault
    this.finished = true;
    this.s!.close(NGHTTP2_CANCEL);
    this.ex.onError(this, Fail.timeout);
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    const s = this.s;
    if (s !== null && !s.destroyed) s.close(NGHTTP2_CANCEL);
  }

  resume(): void {
    this.s?.resume();
  }
}

function attemptOf(s: http2.ClientHttp2Stream): H2Attempt {
  return (s as unknown as Record<symbol, H2Attempt>)[kAttempt]!;
}
function onResponse(this: http2.ClientHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
  attemptOf(this).response(headers, flags);
}
function onData(this: http2.ClientHttp2Stream, chunk: Buffer): void {
  attemptOf(this).data(chunk);
}
function onTrailers(this: http2.ClientHttp2Stream, headers: IncomingHttpHeaders): void {
  attemptOf(this).gotTrailers(headers);
}
function onEnd(this: http2.ClientHttp2Stream): void {
  attemptOf(this).end();
}
function onError(this: http2.ClientHttp2Stream, err: Error): void {
  attemptOf(this).error(err);
}
function onClose(this: http2.ClientHttp2Stream): void {
  attemptOf(this).closed();
}
function onTimeout(this: http2.ClientHttp2Stream): void {
  attemptOf(this).timedOut();
}

const kBodyEx = Symbol('bulkhead.bodyExchange');

/** Stream the downstream request body into the upstream stream (pipe does the backpressure). */
function pipeBody(body: Readable, s: http2.ClientHttp2Stream, ex: Exchange): void {
  (body as unknown as Record<symbol, Exchange>)[kBodyEx] = ex;
  body.on('data', countBody);
  body.once('end', bodyEnd);
  body.pipe(s);
}
function bodyEnd(this: Readable): void {
  (this as unknown as Record<symbol, Exchange>)[kBodyEx]!.onBodyDone();
}
function countBody(this: Readable, chunk: Buffer): void {
  (this as unknown as Record<symbol, Exchange>)[kBodyEx]!.onBodyBytes(chunk.length);
}
