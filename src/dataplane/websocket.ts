// WebSocket tunnels. An Upgrade to a matched route (upgrade.ts for HTTP/1.1, websocket-h2.ts for
// RFC 8441) becomes a raw TCP connection to the picked endpoint: the (rewritten) upgrade request goes
// up; after the upstream's 101, and only then, every byte flows back and forth untouched. A tunnel
// keeps the RuntimeConfig it started under, so snapshot swaps never touch it. Limits: idle timeout (no bytes either way), max lifetime, the pool's
// maxConnections (503 when full). Drain: close frames with code 1001 to both sides, then end.

import type net from 'node:net';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { normalizePath } from './path-normalize.ts';
import type { ProxyRuntime } from './context.ts';
import { Errors, GrpcStatus, proxyError, type ProxyError } from './errors.ts';
import { newRequestId, upstreamRequestHeaders } from './headers.ts';
import type { DataplaneMetrics } from './metrics.ts';
import type { ServerHttp2Stream } from 'node:http2';
import { answerH2 } from './respond.ts';
import type { RouteContext, RuntimeConfig, ClusterRuntime } from './runtime-config.ts';
import type { EndpointState } from './balancer/index.ts';

const kTunnel = Symbol('bulkhead.tunnel');
export const kUpgraded = Symbol('bulkhead.upgraded');

/** server→client close frame, code 1001 (going away); server frames are not masked */
export const CLOSE_1001_SERVER = Buffer.from([0x88, 0x02, 0x03, 0xe9]);
/** client→server close frame, code 1001; client frames must be masked (mask 0: payload unchanged) */
export const CLOSE_1001_CLIENT = Buffer.from([0x88, 0x82, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe9]);

export class Tunnel {
  established = false;
  closed = false;
  /** a non-101 answer to the upgrade is being relayed: its end (or the upstream's close) ends both */
  relaying = false;
  /** h2 tunnels: bytes of the upstream's response head read so far */
  headBuf: Buffer | null = null;
  private maxTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly reg: TunnelRegistry,
    readonly client: Duplex,
    readonly upstream: net.Socket,
    readonly ctx: RouteContext,
    readonly cluster: ClusterRuntime,
    readonly ep: EndpointState,
    /** RFC 8441 tunnels carry the WebSocket inside an h2 stream */
    readonly overH2: boolean,
  ) {
    (client as unknown as Record<symbol, Tunnel>)[kTunnel] = this;
    (upstream as unknown as Record<symbol, Tunnel>)[kTunnel] = this;
    client.on('close', onSideClose);
    upstream.on('close', onSideClose);
    client.on('error', onSideError);
    upstream.on('error', onSideError);
    if (ctx.wsIdleMs > 0) (client as net.Socket).setTimeout(ctx.wsIdleMs, onIdle);
    if (ctx.wsMaxMs > 0) this.maxTimer = setTimeout(onMaxLifetime, ctx.wsMaxMs, this);
    reg.add(this);
  }

  /** Bytes flow both ways from now on. */
  pipe(): void {
    this.established = true;
    this.upstream.pipe(this.client);
    this.client.pipe(this.upstream);
  }

  /**
   * The upstream answered the upgrade with a complete non-101 response, already relayed to the
   * client: no tunnel; the client connection ends after that response.
   */
  refuse(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.reg.remove(this);
    this.upstream.destroy();
    this.client.end();
  }

  /** Before a 101: answer the client with a proxy error and close both sides. */
  answer(err: ProxyError): void {
    if (this.closed) return;
    this.closed = true;
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.reg.remove(this);
    this.upstream.destroy();
    rawAnswer(this.client, err);
  }

  /** Close both sides with 1001 (drain, lifetime) or abruptly (idle, errors). */
  close(goingAway: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.maxTimer !== null) clearTimeout(this.maxTimer);
    this.reg.remove(this);
    if (!this.established) {
      // the upstream never answered: the client gets an HTTP answer, not a cut connection
      this.upstream.destroy();
      if (this.relaying) this.client.end();
      else if (this.overH2) answerH2(this.client as ServerHttp2Stream, Errors.connectFailure, false, null);
      else rawAnswer(this.client, Errors.connectFailure);
      return;
    }
    if (goingAway) {
      this.upstream.unpipe(this.client);
      this.client.unpipe(this.upstream);
      if (!this.client.destroyed) this.client.end(CLOSE_1001_SERVER);
      if (!this.upstream.destroyed) this.upstream.end(CLOSE_1001_CLIENT);
      // peers answer the close frame and hang up; make sure nothing lingers past that
      setTimeout(destroyBoth, 1000, this).unref();
    } else destroyBoth(this);
  }
}

function destroyBoth(t: Tunnel): void {
  t.client.destroy();
  t.upstream.destroy();
}
function tunnelOf(x: object): Tunnel {
  return (x as Record<symbol, Tunnel>)[kTunnel]!;
}
function onSideClose(this: Duplex): void {
  tunnelOf(this).close(false);
}
function onSideError(this: Duplex): void {
  // 'close' follows and tears the tunnel down
}
function onIdle(this: Duplex): void {
  tunnelOf(this).close(true);
}
function onMaxLifetime(t: Tunnel): void {
  t.close(true);
}

export class TunnelRegistry {
  readonly open = new Set<Tunnel>();
  constructor(private readonly metrics: DataplaneMetrics) {}
  get size(): number {
    return this.open.size;
  }
  add(t: Tunnel): void {
    this.open.add(t);
    this.metrics.connection('websocket', 1);
    this.metrics.websocketsTotal.labels(this.metrics.pool, t.ctx.id).inc();
  }
  remove(t: Tunnel): void {
    if (this.open.delete(t)) this.metrics.connection('websocket', -1);
  }
  /** drain: every open tunnel gets 1001 both ways */
  closeAll(goingAway: boolean): void {
    for (const t of [...this.open]) t.close(goingAway);
  }
}

/** Raw HTTP/1.1 answer on an upgrade socket (no ServerResponse exists there). */
export function rawAnswer(socket: Duplex, err: ProxyError): void {
  if (socket.destroyed) return;
  const head =
    `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${err.body.length}\r\nx-bulkhead-reason: ${err.reason}\r\n${err.retryAfter ? 'retry-after: 1\r\n' : ''}connection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), err.body]));
}

export interface TunnelTarget {
  cfg: RuntimeConfig;
  ctx: RouteContext;
  cluster: ClusterRuntime;
  ep: EndpointState;
  path: string;
  authority: string;
  setCookie: string | null;
}

export const upgradeNotAuthenticated = proxyError(
  'BH_ERR_UPGRADE_AUTH',
  403,
  'websocket-auth-unsupported',
  GrpcStatus.PERMISSION_DENIED,
  'WebSocket over HTTP/2 is not accepted on routes with auth',
);

/** Route, limits and endpoint for an upgrade; a ProxyError when it cannot be served. */
export function resolveTunnel(
  rt: ProxyRuntime,
  host: string,
  rawHost: string,
  url: string,
  method: string,
  headers: IncomingMessage['headers'],
  clientIP: string,
): TunnelTarget | ProxyError {
  const cfg = rt.store.peek();
  if (cfg === null) return Errors.notReady;
  const ws = cfg.snapshot.websocket;
  if (!ws.enabled) return Errors.websocketDisabled;
  if (rt.draining) return Errors.notReady;
  // the pool's limit is per replica: each worker process takes its share
  if (rt.tunnels.size >= Math.ceil(ws.maxConnections / rt.workerShare)) {
    rt.metrics.shed.labels(cfg.pool, Errors.websocketLimit.reason).inc();
    return Errors.websocketLimit;
  }
  const q = url.indexOf('?');
  // the same normalisation as requests: a dot-segment spelling must not reach another route
  const path = normalizePath(q === -1 ? url : url.slice(0, q), cfg.mergeSlashes);
  if (path === null) return Errors.badPath;
  const query = q === -1 ? '' : url.slice(q + 1);
  const r = cfg.table.match({ host, path, query, method, headers });
  if (r === null) return Errors.noRoute;
  const ctx = cfg.routes.get(r.id)!;
  if (ctx.direct !== null) return ctx.direct;
  const cookie = headers.cookie;
  const pick = r.pickBackend(Array.isArray(cookie) ? cookie.join('; ') : cookie);
  const cluster = pick === null ? undefined : cfg.clusters.get(pick.cluster);
  if (cluster === undefined) return Errors.noCluster;
  const ep = cluster.balancer.pick(undefined, Date.now());
  if (ep === null) return Errors.noHealthyUpstream;
  const upPath = (ctx.ir.rewrite === null ? path : r.rewritePath(path)) + (query === '' ? '' : '?' + query);
  void clientIP;
  return {
    cfg,
    ctx,
    cluster,
    ep,
    path: upPath,
    authority: r.hostRewrite ?? rawHost,
    setCookie: pick!.setCookie,
  };
}

/** The upgrade request as the upstream sees it: forwarding headers added, hop-by-hop gone. */
export function upgradeRequestHead(
  t: TunnelTarget,
  method: string,
  headers: IncomingMessage['headers'],
  clientIP: string,
  rawHost: string,
  extra: Record<string, string> | null,
  proto: 'http' | 'https' = 'http',
): Buffer {
  const clientId = headers['x-request-id'];
  const requestId = typeof clientId === 'string' && clientId !== '' ? clientId : newRequestId();
  const h = upstreamRequestHeaders(headers, { clientIP, proto, host: rawHost, requestId });
  let head = `${method} ${t.path} HTTP/1.1\r\nhost: ${t.authority}\r\nconnection: Upgrade\r\nupgrade: websocket\r\n`;
  // an empty value removes the header (policies drop inbound copies of identity headers)
  if (extra !== null)
    for (const k in extra) {
      if (extra[k] === '') delete h[k];
      else h[k] = extra[k]!;
    }
  for (const k in h) {
    const v = h[k]!;
    if (Array.isArray(v)) for (const x of v) head += `${k}: ${x}\r\n`;
    else head += `${k}: ${v}\r\n`;
  }
  return Buffer.from(head + '\r\n', 'latin1');
}
