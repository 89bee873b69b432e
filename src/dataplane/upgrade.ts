// HTTP/1.1 `upgrade` events. `Upgrade: websocket` to a matched route opens a Tunnel (websocket.ts):
// raw TCP to the endpoint, the rewritten upgrade request written first, then bytes both ways. Any
// other upgrade (notably `Upgrade: h2c`) is never forwarded: see serveWithoutUpgrade.

import net from 'node:net';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Errors } from './errors.ts';
import { clientAddress, onHttp1Request, runtimeOf } from './proxy.ts';
import {
  Tunnel,
  kUpgraded,
  rawAnswer,
  resolveTunnel,
  upgradeRequestHead,
  type TunnelTarget,
} from './websocket.ts';
import { RequestContext } from './request-context.ts';
import { runPolicies } from './policy/index.ts';
import { CLIENT_CERT_HEADER, clientCertOfSocket } from './client-cert.ts';

const kPending = Symbol('bulkhead.pendingTunnel');
interface Pending {
  tunnel: Tunnel;
  payload: Buffer;
  timer: NodeJS.Timeout;
}

/** `upgrade` event of the HTTP/1.1 server. */
export function onHttp1Upgrade(this: http.Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const rt = runtimeOf(this);
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  if (upgrade !== 'websocket') return serveWithoutUpgrade(this, req, socket);
  const rawHost = req.headers.host ?? '';
  const clientIP = clientAddress(req.socket.remoteAddress);
  const url = req.url ?? '/';
  if (url.length > rt.maxUriBytes) return rawAnswer(socket, Errors.uriTooLong);
  const t = resolveTunnel(rt, rawHost, rawHost, url, req.method ?? 'GET', req.headers, clientIP);
  if ('code' in t) return rawAnswer(socket, t);
  // a route with auth: the upgrade request meets the route's policy chain first
  if (t.ctx.ir.auth !== null && t.ctx.policies !== null)
    return authenticateUpgrade(this, req, socket, head, t, clientIP);
  openTunnel(this, req, socket, head, t, clientIP, null);
}

function openTunnel(
  server: http.Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  t: TunnelTarget,
  clientIP: string,
  extra: Record<string, string> | null,
): void {
  const rt = runtimeOf(server);
  const cert = clientCertOfSocket(req.socket);
  if (cert !== null) (extra ??= {})[CLIENT_CERT_HEADER] = cert;
  (socket as unknown as Record<symbol, boolean>)[kUpgraded] = true;
  rt.metrics.connection('http1', -1);
  const up = net.connect({ host: t.ep.address, port: t.ep.port, noDelay: true });
  const tunnel = new Tunnel(rt.tunnels, socket, up, t.ctx, t.cluster, t.ep, false);
  const payload = Buffer.concat([
    upgradeRequestHead(
      t,
      req.method ?? 'GET',
      req.headers,
      clientIP,
      req.headers.host ?? '',
      extra,
      (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http',
    ),
    head,
  ]);
  const p: Pending = { tunnel, payload, timer: setTimeout(onConnectTimeout, t.ctx.connectMs, tunnel) };
  (up as unknown as Record<symbol, Pending>)[kPending] = p;
  up.once('connect', onUpstreamConnect);
}

// ---- upgrades on routes with auth: the policy chain runs on a response bound to the socket ----
const kUpgrade = Symbol('bulkhead.upgrade');
interface UpgradeState {
  server: http.Server;
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  t: TunnelTarget;
  clientIP: string;
  res: http.ServerResponse;
}

function authenticateUpgrade(
  server: http.Server,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  t: TunnelTarget,
  clientIP: string,
): void {
  const rt = runtimeOf(server);
  // a denial is an ordinary HTTP answer on this socket, which then closes
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as net.Socket);
  res.on('finish', endSocketAfterResponse);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rc = new RequestContext(
    rt,
    res,
    null,
    req.method ?? 'GET',
    req.headers.host ?? '',
    t.path,
    q === -1 ? '' : url.slice(q + 1),
    url,
    req.headers,
    clientIP,
    false,
    null,
    -1,
  );
  rc.cfg = t.cfg;
  rc.route = t.ctx;
  rc.continuation = continueUpgrade;
  (rc as unknown as Record<symbol, UpgradeState>)[kUpgrade] = { server, req, socket, head, t, clientIP, res };
  if (runPolicies(rc, t.ctx.policies!)) openAuthenticated(rc);
}

function continueUpgrade(rc: RequestContext): void {
  if (runPolicies(rc, rc.route!.policies!)) openAuthenticated(rc);
}

function openAuthenticated(rc: RequestContext): void {
  const u = (rc as unknown as Record<symbol, UpgradeState>)[kUpgrade]!;
  if (u.socket.destroyed) return;
  u.res.off('finish', endSocketAfterResponse);
  u.res.detachSocket(u.socket as net.Socket);
  let extra: Record<string, string> | null = null;
  const flat = rc.upstreamHeaders;
  if (flat !== null) {
    extra = {};
    for (let i = 0; i < flat.length; i += 2) extra[flat[i]!] = flat[i + 1]!;
  }
  openTunnel(u.server, u.req, u.socket, u.head, u.t, u.clientIP, extra);
}

function onUpstreamConnect(this: net.Socket): void {
  const p = (this as unknown as Record<symbol, Pending>)[kPending]!;
  clearTimeout(p.timer);
  if (p.tunnel.closed) return;
  this.write(p.payload);
  p.tunnel.pipe();
}

function onConnectTimeout(t: Tunnel): void {
  if (!t.established) t.close(false);
}

/**
 * Non-WebSocket upgrades (`Upgrade: h2c`, others) are never forwarded: the request is answered as
 * plain HTTP/1.1 without switching protocols (the upgrade headers are hop-by-hop and dropped), and
 * the connection closes after the response. Requests with a body are refused with 400 here, since
 * Node hands the socket over after the headers and the body would have to be parsed by hand.
 */
function serveWithoutUpgrade(server: http.Server, req: IncomingMessage, socket: Duplex): void {
  const cl = req.headers['content-length'];
  if ((cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined) {
    return rawAnswer(socket, {
      ...Errors.upstreamProtocol,
      status: 400,
      reason: 'upgrade-with-body',
      body: Buffer.from('protocol upgrades with a request body are not supported\n'),
    });
  }
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as net.Socket);
  res.on('finish', endSocketAfterResponse);
  onHttp1Request.call(server, req, res);
}

function endSocketAfterResponse(this: http.ServerResponse): void {
  const s = this.socket;
  this.detachSocket(s as net.Socket);
  s?.end();
}
