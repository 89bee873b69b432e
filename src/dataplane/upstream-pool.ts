// Http1Endpoint: the pooled HTTP/1.1 connections to one upstream endpoint (upstream-conn.ts). A
// request takes the most recently used idle connection (a warm socket) or opens a new one, so under
// a burst as many connections open as there are concurrent requests. `upstream.maxIdlePerEndpoint`
// caps the IDLE ones (as nginx's `keepalive N`): when a request ends and N are already idle, its
// connection closes. Idle connections also close after `idleTimeout`, or sooner when the server
// announced a shorter `Keep-Alive: timeout` (one second early, so we never reuse a socket the server
// is closing), and after `maxRequestsPerConnection` requests.

import type tls from 'node:tls';
import { ConnState, UpstreamConn } from './upstream-conn.ts';

export interface Http1EndpointOptions {
  maxIdle: number;
  idleTimeoutMs: number;
  /** 0 = unlimited */
  maxRequestsPerConnection: number;
  connectMs: number;
  /** upstream TLS (server name, CA, client certificate); null for plaintext */
  tls?: tls.ConnectionOptions | null;
}

export class Http1Endpoint {
  /** idle connections, most recently used last (reused first) */
  private readonly free: UpstreamConn[] = [];
  private readonly all = new Set<UpstreamConn>();
  private closed = false;
  private whenClosed: (() => void) | null = null;
  /** the last TLS session a server gave us, offered for resumption on the next connection */
  tlsSession: Buffer | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly opts: Http1EndpointOptions,
  ) {}

  /** A connection for one request: an idle one, or a new one (its request is written while it connects). */
  acquire(): UpstreamConn {
    if (this.closed)
      throw Object.assign(new Error('upstream endpoint removed'), { code: 'BH_UPSTREAM_CLOSED' });
    let c: UpstreamConn | undefined;
    while ((c = this.free.pop()) !== undefined) {
      if (c.state === ConnState.Idle && !c.socket.destroyed && c.socket.readable) return c;
      this.all.delete(c);
    }
    const o = this.opts;
    c = new UpstreamConn(this, this.host, this.port, o.connectMs, o.tls ?? null);
    this.all.add(c);
    return c;
  }

  /** The response on `c` ended and its request was sent whole: pool it or close it. */
  release(c: UpstreamConn): void {
    const max = this.opts.maxRequestsPerConnection;
    let idleMs = this.opts.idleTimeoutMs;
    if (c.hintMs > 0 && c.hintMs - 1000 < idleMs) idleMs = c.hintMs - 1000;
    if (
      this.closed ||
      !c.keepAlive ||
      c.state !== ConnState.Busy ||
      c.socket.destroyed ||
      !c.socket.readable ||
      (max > 0 && c.served >= max) ||
      idleMs <= 0 ||
      this.free.length >= this.opts.maxIdle
    ) {
      c.destroy();
      return;
    }
    c.idle(idleMs);
    this.free.push(c);
  }

  /** `c` closed (idle timeout, server close, error) */
  forget(c: UpstreamConn): void {
    const i = this.free.lastIndexOf(c);
    if (i !== -1) this.free.splice(i, 1);
    this.all.delete(c);
    if (this.closed && this.all.size === 0 && this.whenClosed !== null) {
      this.whenClosed();
      this.whenClosed = null;
    }
  }

  get connections(): number {
    return this.all.size;
  }

  get idle(): number {
    return this.free.length;
  }

  /** graceful: idle connections close now, busy ones after their response; force: all are cut */
  close(force = false): Promise<void> {
    this.closed = true;
    const idle = this.free.splice(0);
    for (const c of idle) c.destroy();
    if (force) for (const c of [...this.all]) c.destroy();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.whenClosed = resolve;
    });
  }

  destroy(): Promise<void> {
    return this.close(true);
  }
}
