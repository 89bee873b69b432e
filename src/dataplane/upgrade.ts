// HTTP/1.1 `upgrade` events. `Upgrade: websocket` to a matched route opens a Tunnel (websocket.ts):
// raw TCP to the endpoint, the rewritten upgrade request written first, then bytes both ways. Any
// other upgrade (notably `Upgrade: h2c`) is never forwarded: see serveWithoutUpgrade. An upgrade
// runs its route's policy chain first, like any request (a rate limit counts it as one request; a
// policy may refuse it with an ordinary HTTP answer); headers a policy adds for the client are not
// added to the upstream's 101.

import net from 'node:net';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { Errors } from './errors.ts';
import { clientAddress, onHttp1Request, passesPolicies, runtimeOf } from './proxy.ts';
import { RequestContext } from './request-context.ts';
import type { ProxyRuntime } from './context.ts';
import {
  Tunnel,
  kUpgraded,
  rawAnswer,
  resolveTunnel,
  upgradeRequestHead,
  type TunnelTarget,
} from './websocket.ts';

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
  if (t.ctx.policies !== null) {
    // the chain answers through an ordinary response on this socket; passing, it lets go of it
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as net.Socket);
    res.on('finish', endSocketAfterResponse);
    const q = url.indexOf('?');
    const rc = new RequestContext(
      rt,
      res,
      null,
      req.method ?? 'GET',
      rawHost,
      q === -1 ? url : url.slice(0, q),
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
    rc.passTo = passedChain;
    (rc as unknown as Record<symbol, Held>)[kHeld] = { req, socket, head, t, res };
    if (passesPolicies(rc)) passedChain(rc);
    return;
  }
  openTunnel(rt, req, socket, head, t, clientIP);
}

const kHeld = Symbol('bulkhead.upgradeHeld');
interface Held {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  t: TunnelTarget;
  res: http.ServerResponse;
}

function passedChain(rc: RequestContext): void {
  const h = (rc as unknown as Record<symbol, Held>)[kHeld]!;
  h.res.off('finish', endSocketAfterResponse);
  h.res.detachSocket(h.socket as net.Socket);
  if (h.socket.destroyed) return;
  openTunnel(rc.rt, h.req, h.socket, h.head, h.t, rc.peerIP);
}

function openTunnel(
  rt: ProxyRuntime,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  t: TunnelTarget,
  clientIP: string,
): void {
  const rawHost = req.headers.host ?? '';
  (socket as unknown as Record<symbol, boolean>)[kUpgraded] = true;
  rt.metrics.connection('http1', -1);
  const up = net.connect({ host: t.ep.address, port: t.ep.port, noDelay: true });
  const tunnel = new Tunnel(rt.tunnels, socket, up, t.ctx, t.cluster, t.ep, false);
  const payload = Buffer.concat([
    upgradeRequestHead(t, req.method ?? 'GET', req.headers, clientIP, rawHost, null),
    head,
  ]);
  const p: Pending = { tunnel, payload, timer: setTimeout(onConnectTimeout, t.ctx.connectMs, tunnel) };
  (up as unknown as Record<symbol, Pending>)[kPending] = p;
  up.once('connect', onUpstreamConnect);
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
