// h2c upstream attempt: one stream on the endpoint's shared session. Used for clusters with protocol
// H2C whatever the downstream protocol, and the path gRPC takes: trailers pass through, downstream
// cancellation becomes RST_STREAM(CANCEL) here, a refused stream (REFUSED_STREAM or GOAWAY before
// processing) is the `refused-stream` retry condition.
//
// Per call this costs what node:http2 needs and little more: the request body is relayed with a
// data/end listener pair and pause/resume on the upstream's 'drain' (no `pipe`, which adds and removes
// seven listeners per call), and the read and send timeouts are flags checked by one coarse sweep
// (h2-idle.ts) instead of a stream Timeout refreshed on every frame and a send Timeout per call.

import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { EndpointState } from './balancer/index.ts';
import type { Exchange } from './exchange.ts';
import type { H2Endpoint } from './upstreams.ts';
import { Errors } from './errors.ts';
import { filterTrailers, type OutgoingHeaders } from './headers.ts';
import { Fail, classifyUpstreamError } from './upstream-errors.ts';
import { sweepAdd, sweepRemove, type Swept } from './h2-idle.ts';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_FLAG_END_STREAM } = http2.constants;
const kAttempt = Symbol('bulkhead.h2attempt');

// request() copies its options and fills in the priority fields it finds missing; adding them to the
// copy took a slow path (several µs per call in profiles), so they are all given, with their defaults
const REQUEST_ENDED = { endStream: true, weight: 16, parent: 0, exclusive: false, silent: false };
const REQUEST_OPEN = { endStream: false, weight: 16, parent: 0, exclusive: false, silent: false };

// request body relay states
const BODY_NONE = 0;
const BODY_FLOWING = 1;
const BODY_PAUSED = 2;
const BODY_DONE = 3;

export class H2Attempt implements Swept {
  readonly started: number;
  private s: http2.ClientHttp2Stream | null = null;
  private finished = false;
  private gotHead = false;
  private err: Error | null = null;
  private trailers: OutgoingHeaders | null = null;
  private body: Readable | null = null;
  private bodyState = BODY_NONE;
  private drainHooked = false;
  // idle tracking (h2-idle.ts): flags set on activity, turned into times by the sweep
  sweepPrev: Swept | null = null;
  sweepNext: Swept | null = null;
  private readMs: number;
  private sendMs: number;
  private readSeen = true;
  private sendSeen = true;
  private readAt = 0;
  private sendAt = 0;

  constructor(
    private readonly ex: Exchange,
    readonly ep: EndpointState,
    private readonly up: H2Endpoint,
  ) {
    this.readMs = ex.ctx.readMs;
    this.sendMs = 0;
    // a first attempt without a collected body starts in the turn that made the exchange (proxy.ts):
    // its clock reading is good for this one too
    this.started = ex.attempts === 1 && !Buffer.isBuffer(ex.body) ? ex.started : performance.now();
  }

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
      s = this.up.get().request(h, body === null ? REQUEST_ENDED : REQUEST_OPEN);
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
    this.up.openStreams++; // until 'close' (the endpoint's idle sweep)
    (s as unknown as Record<symbol, H2Attempt>)[kAttempt] = this;
    s.on('response', onResponse);
    s.on('data', onData);
    s.on('trailers', onTrailers);
    s.on('end', onEnd);
    s.on('error', onError);
    s.on('close', onClose);
    if (body !== null) {
      if (Buffer.isBuffer(body)) s.end(body);
      else this.relayBody(body);
    }
    if (this.readMs > 0 || this.sendMs > 0) sweepAdd(this);
  }

  /** Stream the request body upstream; the first attempt's send timeout watches it. */
  private relayBody(body: Readable): void {
    const ex = this.ex;
    this.body = body;
    this.bodyState = BODY_FLOWING;
    if (ex.attempts === 1) this.sendMs = ex.ctx.sendMs;
    (body as unknown as Record<symbol, H2Attempt>)[kAttempt] = this;
    body.on('data', onBodyData);
    body.on('end', onBodyEnd);
    // the downstream stream's errors end in its 'close' (the exchange); a transform in between
    // (gRPC-Web text) fails the upload
    if (body !== (ex.stream as unknown)) body.on('error', onBodyError);
  }

  bodyData(chunk: Buffer): void {
    if (this.bodyState === BODY_DONE) return;
    const ex = this.ex;
    ex.onBodyBytes(chunk.length);
    ex.replayChunk(chunk); // kept for a retry when the route has retries (proxy.ts teeBody)
    this.sendSeen = true;
    this.readSeen = true; // what is written counts as activity, as with a stream timeout
    if (!this.s!.write(chunk)) {
      this.bodyState = BODY_PAUSED;
      this.body!.pause();
      if (!this.drainHooked) {
        this.drainHooked = true;
        this.s!.on('drain', onUpstreamDrain);
      }
    }
  }

  bodyEnd(): void {
    if (this.bodyState === BODY_DONE) return;
    this.bodyState = BODY_DONE;
    this.sendMs = 0;
    this.ex.replayEnd();
    this.ex.onBodyDone();
    const s = this.s!;
    if (!s.destroyed) s.end();
  }

  upstreamDrained(): void {
    if (this.bodyState !== BODY_PAUSED) return;
    this.bodyState = BODY_FLOWING;
    this.body!.resume();
  }

  /** the upstream stream is done before the body: stop reading it, as an unpiped source is */
  private stopBody(): void {
    if (this.bodyState === BODY_NONE || this.bodyState === BODY_DONE) return;
    this.bodyState = BODY_DONE;
    const body = this.body!;
    body.removeListener('data', onBodyData);
    body.removeListener('end', onBodyEnd);
    body.pause();
  }

  bodyFailed(): void {
    if (this.finished) return;
    this.stopBody();
    const s = this.s!;
    if (!s.destroyed) s.close(NGHTTP2_CANCEL); // 'close' reports the reset
  }

  response(headers: IncomingHttpHeaders, flags: number, raw: string[]): void {
    if (this.finished) return;
    const status = Number(headers[':status']);
    if (status < 200) return;
    this.gotHead = true;
    this.readSeen = true;
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    if (!this.ex.onH2Head(this, status, headers, raw, endStream)) this.cancel();
  }

  data(chunk: Buffer): void {
    if (this.finished) return;
    this.readSeen = true;
    if (!this.ex.onData(this, chunk)) this.s!.pause();
  }

  gotTrailers(headers: IncomingHttpHeaders, raw: string[]): void {
    this.trailers = filterTrailers(headers, raw);
  }

  end(): void {
    if (this.finished || !this.gotHead) return;
    this.finished = true;
    sweepRemove(this);
    this.ex.onEnd(this, this.trailers);
  }

  error(err: Error): void {
    this.err ??= err;
  }

  closed(): void {
    const up = this.up;
    up.openStreams--;
    up.streamSeen = true;
    this.stopBody();
    if (this.finished) return;
    this.finished = true;
    sweepRemove(this);
    const s = this.s!;
    let kind: Fail = Fail.reset;
    if (this.err !== null && !this.up.connected && !this.gotHead)
      kind = classifyUpstreamError(this.err) === Fail.connectTimeout ? Fail.connectTimeout : Fail.connect;
    else if (s.rstCode === NGHTTP2_REFUSED_STREAM) kind = Fail.refused;
    else if (this.err !== null && (this.err as { code?: string }).code === 'ERR_HTTP2_GOAWAY_SESSION')
      kind = Fail.refused;
    else if (!this.up.connected && !this.gotHead && s.id === undefined) kind = Fail.connect;
    this.ex.onError(this, kind);
  }

  /** The sweep's tick: read idleness (not while paused by downstream backpressure) and send idleness. */
  idleTick(now: number): void {
    if (this.finished) return sweepRemove(this);
    const s = this.s!;
    if (this.readSeen || s.isPaused()) {
      this.readSeen = false;
      this.readAt = now;
    } else if (this.readMs > 0 && now - this.readAt >= this.readMs) return this.timedOut();
    if (this.sendMs > 0) {
      if (this.sendSeen) {
        this.sendSeen = false;
        this.sendAt = now;
      } else if (now - this.sendAt >= this.sendMs) this.sendTimedOut();
    }
  }

  private timedOut(): void {
    this.finished = true;
    sweepRemove(this);
    this.stopBody();
    this.s!.close(NGHTTP2_CANCEL);
    this.ex.onError(this, Fail.timeout);
  }

  /** the client stopped sending its body (what the exchange's send timer does for HTTP/1.1) */
  private sendTimedOut(): void {
    this.sendMs = 0;
    this.ex.onBodyDone();
    this.ex.fail(Errors.sendTimeout); // cancels this attempt
  }

  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    sweepRemove(this);
    this.stopBody();
    const s = this.s;
    if (s !== null && !s.destroyed) s.close(NGHTTP2_CANCEL);
  }

  resume(): void {
    this.s?.resume();
  }
}

function attemptOf(x: object): H2Attempt {
  return (x as Record<symbol, H2Attempt>)[kAttempt]!;
}
// node:http2 passes each header block twice: as an object and as its flat [name, value, ...] list
function onResponse(
  this: http2.ClientHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  raw: string[],
): void {
  attemptOf(this).response(headers, flags, raw);
}
function onData(this: http2.ClientHttp2Stream, chunk: Buffer): void {
  attemptOf(this).data(chunk);
}
function onTrailers(
  this: http2.ClientHttp2Stream,
  headers: IncomingHttpHeaders,
  flags: number,
  raw: string[],
): void {
  attemptOf(this).gotTrailers(headers, raw);
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
function onUpstreamDrain(this: http2.ClientHttp2Stream): void {
  attemptOf(this).upstreamDrained();
}
function onBodyData(this: Readable, chunk: Buffer): void {
  attemptOf(this).bodyData(chunk);
}
function onBodyEnd(this: Readable): void {
  attemptOf(this).bodyEnd();
}
function onBodyError(this: Readable): void {
  attemptOf(this).bodyFailed();
}
