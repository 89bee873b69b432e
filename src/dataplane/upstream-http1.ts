// HTTP/1.1 upstream attempt on a pooled connection (upstream-pool.ts, upstream-conn.ts). The request
// head is serialised once into a string and leaves in one write together with a buffered body; a
// streamed body follows with backpressure both ways (the downstream body pauses while the upstream
// socket is full; the upstream socket pauses while the downstream is full). A body of unknown length
// goes chunked (with the client's request trailers, if it sent any); a Content-Length the client sent
// is kept and the bytes pass through unchanged.
//
// A reused keep-alive connection can be closed by the server at the moment we write to it. When
// that happens before any response byte, on a request that can be sent again (no body, or a buffered
// one) with an idempotent method, the request goes once more on a fresh connection: the server
// never saw it, and the client should not get a 502 for our choice of socket.

import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { EndpointState } from './balancer/index.ts';
import type { Exchange } from './exchange.ts';
import type { Http1Endpoint } from './upstream-pool.ts';
import type { UpstreamConn } from './upstream-conn.ts';
import { Fail, classifyUpstreamError } from './upstream-errors.ts';
import { filterFlatResponseHeaders, flatTrailersToObject } from './headers.ts';
import { COALESCE_MAX, joinHead, lastChunk } from './http1/wire.ts';
import { writeDirect } from './raw-socket.ts';

const kAttempt = Symbol('bulkhead.http1Attempt');
const CRLF = '\r\n';

function idempotent(method: string): boolean {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
    case 'PUT':
    case 'DELETE':
    case 'TRACE':
      return true;
    default:
      return false;
  }
}

export class Http1Attempt {
  readonly started = performance.now();
  readonly method: string;
  readonly readMs: number;
  private conn: UpstreamConn | null = null;
  private pool: Http1Endpoint | null = null;
  private finished = false;
  /** the whole request is written (a connection is reusable only then) */
  private sent = false;
  private chunked = false;
  private stream: Readable | null = null;
  private staleRetried = false;

  constructor(
    private readonly ex: Exchange,
    readonly ep: EndpointState,
  ) {
    this.method = ex.method;
    this.readMs = ex.ctx.readMs;
  }

  start(pool: Http1Endpoint): void {
    this.pool = pool;
    let conn: UpstreamConn;
    try {
      conn = pool.acquire();
    } catch {
      this.finished = true;
      return this.ex.onError(this, Fail.connect);
    }
    this.send(conn);
  }

  private send(conn: UpstreamConn): void {
    const ex = this.ex;
    this.conn = conn;
    conn.take(this, this.readMs);
    const body = ex.body;
    const head = this.head(body);
    const s = conn.socket;
    if (body === null) {
      this.sent = true;
      if (!writeDirect(s, head)) s.write(head, 'latin1');
      return;
    }
    if (Buffer.isBuffer(body)) {
      this.sent = true;
      if (body.length <= COALESCE_MAX) {
        const buf = joinHead(head, body);
        if (!writeDirect(s, buf)) s.write(buf);
      } else {
        s.cork();
        s.write(head, 'latin1');
        s.write(body);
        s.uncork();
      }
      ex.onBodyDone();
      return;
    }
    this.stream = body;
    (body as unknown as Record<symbol, Http1Attempt>)[kAttempt] = this;
    body.on('data', onBodyData);
    body.once('end', onBodyEnd);
    body.once('error', onBodyError);
    body.once('close', onBodyClose);
    s.write(head, 'latin1');
    if (body.isPaused()) body.resume();
  }

  /** Request line and headers, with the framing the body needs. */
  private head(body: Buffer | Readable | null): string {
    const ex = this.ex;
    let h = ex.method + ' ' + ex.path + ' HTTP/1.1\r\nhost: ' + ex.authority + CRLF;
    const headers = ex.headers;
    let hasLength = false;
    for (const name in headers) {
      const v = headers[name]!;
      if (name === 'content-length') {
        if (body === null || Buffer.isBuffer(body)) continue;
        hasLength = true;
      }
      // values are valid by construction: parsed by llhttp / nghttp2, compiled from validated
      // config, or added by a policy through RequestContext.addUpstreamHeader, which checks them
      if (typeof v === 'string') h += name + ': ' + v + CRLF;
      else for (let i = 0; i < v.length; i++) h += name + ': ' + v[i]! + CRLF;
    }
    if (Buffer.isBuffer(body)) h += 'content-length: ' + body.length + CRLF;
    else if (body === null) {
      // a request without a body, on a method that usually has one, says so (as clients do)
      if (ex.method === 'POST' || ex.method === 'PUT' || ex.method === 'PATCH') h += 'content-length: 0\r\n';
    } else if (!hasLength) {
      h += 'transfer-encoding: chunked\r\n';
      this.chunked = true;
    }
    return h + CRLF;
  }

  // ---- the streamed request body ----
  bodyData(chunk: Buffer): void {
    const c = this.conn;
    if (this.finished || c === null || chunk.length === 0) return;
    const s = c.socket;
    let ok: boolean;
    if (this.chunked) {
      s.cork();
      s.write(chunk.length.toString(16) + CRLF, 'latin1');
      s.write(chunk);
      ok = s.write(CRLF, 'latin1');
      s.uncork();
    } else ok = s.write(chunk);
    this.ex.onBodyBytes(chunk.length);
    if (!ok) this.stream!.pause();
  }

  bodyEnd(): void {
    const c = this.conn;
    if (this.finished || c === null) return;
    if (this.chunked) c.socket.write(lastChunk(this.ex.res?.req.trailers ?? null), 'latin1');
    this.sent = true;
    this.unhookBody();
    this.ex.onBodyDone();
  }

  /** the downstream body broke off (client gone, framing error): this try cannot complete */
  bodyAborted(): void {
    if (this.finished || this.sent) return;
    this.fail(Fail.reset);
  }

  onSocketDrain(): void {
    const b = this.stream;
    if (b !== null && !this.sent && b.isPaused()) b.resume();
  }

  private unhookBody(): void {
    const b = this.stream;
    if (b === null) return;
    this.stream = null;
    b.removeListener('data', onBodyData);
    b.removeListener('end', onBodyEnd);
    b.removeListener('error', onBodyError);
    b.removeListener('close', onBodyClose);
  }

  // ---- the response, from the connection ----
  onUpstreamHead(status: number, raw: string[]): void {
    if (this.finished) return;
    if (!this.ex.onHead(this, status, filterFlatResponseHeaders(raw, []))) {
      // discarded for a retry (the exchange cancelled us) or the downstream is gone
      if (!this.finished) this.cancel();
    }
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.finished) return;
    if (!this.ex.onData(this, chunk)) this.conn?.setReading(false);
  }

  onUpstreamEnd(trailers: string[] | null): void {
    if (this.finished) return;
    this.finished = true;
    const c = this.conn!;
    this.conn = null;
    if (this.sent) this.pool!.release(c);
    else {
      // the answer overtook the request body (a 413, say): the connection is in an unknown state
      this.unhookBody();
      c.destroy();
    }
    this.ex.onEnd(this, trailers === null ? null : flatTrailersToObject(trailers));
  }

  /** The connection closed under us. */
  onConnLost(c: UpstreamConn, err: Error | null, connected: boolean): void {
    if (this.finished || c !== this.conn) return;
    this.conn = null;
    if (
      connected &&
      c.served > 0 &&
      !c.gotBytes &&
      !this.staleRetried &&
      (this.ex.body === null || Buffer.isBuffer(this.ex.body)) &&
      idempotent(this.method) &&
      (err === null || (err as { code?: string }).code !== 'UND_ERR_HEADERS_TIMEOUT')
    ) {
      // a stale keep-alive socket: once more on a fresh one
      this.staleRetried = true;
      this.sent = false;
      let fresh: UpstreamConn;
      try {
        fresh = this.pool!.acquire();
      } catch {
        return this.fail(Fail.connect);
      }
      return this.send(fresh);
    }
    if (err === null) return this.fail(Fail.reset);
    const code = (err as { code?: string }).code ?? '';
    if (code === 'UND_ERR_HEADERS_TIMEOUT') return this.fail(Fail.timeout);
    if (code.startsWith('HPE_')) return this.fail(Fail.protocol);
    // before the connection was up, a reset or TLS failure is a connect failure of this endpoint
    const kind = classifyUpstreamError(err);
    this.fail(!connected && kind === Fail.reset ? Fail.connect : kind);
  }

  private fail(kind: Fail): void {
    if (this.finished) return;
    this.finished = true;
    this.unhookBody();
    const c = this.conn;
    this.conn = null;
    c?.destroy();
    this.ex.onError(this, kind);
  }

  // ---- Attempt ----
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.unhookBody();
    const c = this.conn;
    this.conn = null;
    c?.destroy();
  }

  resume(): void {
    if (!this.finished) this.conn?.setReading(true);
  }
}

function attemptOf(b: Readable): Http1Attempt {
  return (b as unknown as Record<symbol, Http1Attempt>)[kAttempt]!;
}
function onBodyData(this: Readable, chunk: Buffer): void {
  attemptOf(this).bodyData(chunk);
}
function onBodyEnd(this: Readable): void {
  attemptOf(this).bodyEnd();
}
function onBodyError(this: Readable): void {
  attemptOf(this).bodyAborted();
}
function onBodyClose(this: Readable): void {
  attemptOf(this).bodyAborted();
}
