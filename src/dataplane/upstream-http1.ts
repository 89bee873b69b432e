// HTTP/1.1 upstream attempt: `pool.dispatch(opts, handler)` with this class as undici's raw handler
// (the callback-style interface undici runs natively, so no wrapper object per request). Response
// backpressure: onData returns false to pause the upstream socket until the downstream drains.
// Request bodies are undici's to stream (it pauses the downstream stream when the socket is full).

import type { Http1Endpoint } from './upstream-pool.ts';
import type { Dispatcher } from 'undici';
import { performance } from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import type { EndpointState } from './balancer/index.ts';
import type { Exchange } from './exchange.ts';
import { Fail, classifyUndiciError } from './upstream-errors.ts';
import { filterRawResponseHeaders, rawTrailersToObject } from './headers.ts';

export class Http1Attempt {
  readonly started = performance.now();
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private finished = false;

  constructor(
    private readonly ex: Exchange,
    readonly ep: EndpointState,
  ) {}

  start(pool: Http1Endpoint): void {
    const ex = this.ex;
    ex.headers.host = ex.authority;
    let body = ex.body;
    // undici destroys a stream body once sent; an h2 server stream is also the response's way out,
    // so it reaches undici through a PassThrough
    if (body !== null && body === ex.stream) body = ex.stream.pipe(new PassThrough());
    const readMs = ex.ctx.readMs;
    const opts: Dispatcher.DispatchOptions = {
      path: ex.path,
      method: ex.method as Dispatcher.HttpMethod,
      headers: ex.headers,
      body,
      headersTimeout: readMs,
      bodyTimeout: readMs,
    };
    pool.dispatch(opts, this as unknown as Dispatcher.DispatchHandler);
  }

  // ---- undici raw handler interface ----
  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.finished) abort();
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (this.finished) return false;
    if (status < 200) return true; // informational (100 Continue): not forwarded
    this.resumeFn = resume;
    return this.ex.onHead(this, status, filterRawResponseHeaders(raw, []));
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return false;
    return this.ex.onData(this, chunk);
  }

  onComplete(trailers: Buffer[] | null): void {
    if (this.finished) return;
    this.finished = true;
    this.ex.onEnd(this, rawTrailersToObject(trailers));
  }

  onError(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.ex.onError(this, classifyUndiciError(err));
  }

  onBodySent(chunk: Buffer | string): void {
    this.ex.onBodyBytes(chunk.length);
  }

  onRequestSent(): void {
    this.ex.onBodyDone();
  }

  onUpgrade(): void {
    // upgrades never go through dispatch (WebSocket tunnels use raw TCP)
  }

  // ---- Attempt ----
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.abortFn?.();
  }

  resume(): void {
    this.resumeFn?.();
  }
}
