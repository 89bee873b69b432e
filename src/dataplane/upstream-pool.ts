// Http1Endpoint: the HTTP/1.1 connections to one upstream endpoint. undici's Pool takes one number,
// `connections`, which caps ALL connections (requests queue behind it); our setting is a cap on IDLE
// connections (`upstream.maxIdlePerEndpoint`, as nginx's `keepalive N`): under a burst as many
// connections open as there are concurrent requests, and when the burst ends all but N close.
// So this keeps its own list of undici Clients: a request takes a free one or a new one; a Client
// that becomes free again (undici's 'drain') goes back on the free stack, or closes when N are
// already idle there. Idle sockets also close after `idleTimeout` (undici's keepAliveTimeout).

import type tls from 'node:tls';
import { Client, type Dispatcher } from 'undici';

const kEndpoint = Symbol('bulkhead.http1Endpoint');

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
  /** clients with no request running, most recently used last (reused first: warm sockets) */
  private readonly free: Client[] = [];
  private readonly all = new Set<Client>();
  private closed = false;

  constructor(
    readonly origin: string,
    private readonly opts: Http1EndpointOptions,
  ) {}

  /** Same contract as undici's `Dispatcher.dispatch`. */
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    let c: Client | undefined;
    while ((c = this.free.pop()) !== undefined && (c.closed || c.destroyed)) this.all.delete(c);
    if (c === undefined) c = this.open();
    if (c.dispatch(opts, handler)) this.release(c); // still has room (never with pipelining 1)
    return true;
  }

  private open(): Client {
    const o = this.opts;
    const c = new Client(this.origin, {
      keepAliveTimeout: o.idleTimeoutMs,
      keepAliveMaxTimeout: o.idleTimeoutMs,
      maxRequestsPerClient: o.maxRequestsPerConnection > 0 ? o.maxRequestsPerConnection : undefined,
      connect: o.tls ? { timeout: o.connectMs, ...o.tls } : { timeout: o.connectMs },
      pipelining: 1,
    });
    (c as unknown as Record<symbol, Http1Endpoint>)[kEndpoint] = this;
    c.on('drain', onClientDrain);
    c.on('disconnect', onClientDisconnect);
    c.on('connectionError', onClientDisconnect);
    this.all.add(c);
    return c;
  }

  release(c: Client): void {
    if (this.closed || c.closed || c.destroyed) {
      this.all.delete(c);
      return;
    }
    if (this.free.length >= this.opts.maxIdle) {
      this.all.delete(c);
      void c.close().catch(ignore);
      return;
    }
    this.free.push(c);
  }

  /** an idle client lost its socket (idle timeout, server close): drop it rather than reconnect later */
  forget(c: Client): void {
    const i = this.free.indexOf(c);
    if (i === -1) return;
    this.free.splice(i, 1);
    this.all.delete(c);
    void c.close().catch(ignore);
  }

  get connections(): number {
    return this.all.size;
  }

  get idle(): number {
    return this.free.length;
  }

  /** graceful: running requests finish; force: everything is cut */
  async close(force = false): Promise<void> {
    this.closed = true;
    this.free.length = 0;
    const clients = [...this.all];
    this.all.clear();
    await Promise.all(clients.map((c) => (force ? c.destroy() : c.close()).catch(ignore)));
  }

  destroy(): Promise<void> {
    return this.close(true);
  }
}

function endpointOf(c: Client): Http1Endpoint {
  return (c as unknown as Record<symbol, Http1Endpoint>)[kEndpoint]!;
}
function onClientDrain(this: Client): void {
  endpointOf(this).release(this);
}
function onClientDisconnect(this: Client): void {
  endpointOf(this).forget(this);
}
function ignore(): void {}
