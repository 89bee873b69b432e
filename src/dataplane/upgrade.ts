// HTTP/1.1 WebSocket upgrades, handed over by the engine (http1/) with the socket and the bytes that
// followed the head. A matched route opens a Tunnel (websocket.ts): raw TCP to the endpoint, the
// rewritten upgrade request written first. The upstream's answer is read with llhttp in response
// mode: only a 101 turns the connection into a byte tunnel (then the client's early bytes go up).
// Any other answer is relayed to the client as a normal response and both connections close, so a
// refused upgrade can never leave an unrouted raw pipe behind it. Other upgrades (`Upgrade: h2c`)
// never get here: the engine serves them as plain HTTP/1.1 requests and closes after the response.
// An upgrade runs its route's policy chain first, like any request (a rate limit counts it as one
// request; a refusal is an ordinary HTTP answer with `connection: close`, see upgrade-response.ts).

import net from 'node:net';
import { Errors } from './errors.ts';
import type { Http1Response } from './http1/response.ts';
import { clientAddress, passesPolicies, runtimeOf } from './proxy.ts';
import { RequestContext } from './request-context.ts';
import type { ProxyRuntime } from './context.ts';
import { normalizePath } from './path-normalize.ts';
import { UpgradeAnswer } from './upgrade-response.ts';
import { CLIENT_CERT_HEADER, clientCertOfSocket } from './client-cert.ts';
import {
  Tunnel,
  kUpgraded,
  rawAnswer,
  resolveTunnel,
  upgradeRequestHead,
  type TunnelTarget,
} from './websocket.ts';
import type { Http1Request } from './http1/request.ts';
import { HTTPParser, kOnHeadersComplete, kOnMessageComplete, type NodeHttpParser } from './http1/parser.ts';

const kPending = Symbol('bulkhead.pendingTunnel');
/** upper bound for the upstream's answer head */
const MAX_ANSWER_HEAD = 16 * 1024;

interface Pending {
  tunnel: Tunnel;
  /** the route's read timeout: how long the upstream may take to answer the upgrade */
  readMs: number;
  request: Buffer;
  /** client bytes after its upgrade head: sent up only after the 101 */
  early: Buffer;
  timer: NodeJS.Timeout;
  parser: NodeHttpParser | null;
  status: number;
  /** a complete non-101 answer has been read */
  complete: boolean;
}

/** `upgrade` hand-off from the HTTP/1.1 engine (`this` is the engine). */
export function onHttp1Upgrade(this: object, req: Http1Request, socket: net.Socket, head: Buffer): void {
  const rt = runtimeOf(this);
  const rawHost = req.headers.host ?? '';
  const clientIP = clientAddress(socket.remoteAddress);
  const url = req.url;
  if (url.length > rt.maxUriBytes) return rawAnswer(socket, Errors.uriTooLong);
  const t = resolveTunnel(rt, rawHost, rawHost, url, req.method, req.headers, clientIP);
  if ('code' in t) return rawAnswer(socket, t);
  if (t.ctx.policies === null) return openTunnel(rt, req, socket, head, t, clientIP, null);
  // the route's chain runs first, as for any request: a rate limit counts the upgrade, a policy may
  // refuse it with an ordinary HTTP answer, a suspended one opens its tunnel on resume
  socket.pause();
  const q = url.indexOf('?');
  const rc = new RequestContext(
    rt,
    new UpgradeAnswer(socket) as unknown as Http1Response,
    null,
    req.method,
    rawHost,
    normalizePath(q === -1 ? url : url.slice(0, q), t.cfg.mergeSlashes) ?? '/',
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
  (rc as unknown as Record<symbol, Held>)[kHeld] = { req, socket, head, t };
  if (passesPolicies(rc)) passedChain(rc);
}

const kHeld = Symbol('bulkhead.upgradeHeld');
interface Held {
  req: Http1Request;
  socket: net.Socket;
  head: Buffer;
  t: TunnelTarget;
}

function passedChain(rc: RequestContext): void {
  const h = (rc as unknown as Record<symbol, Held>)[kHeld]!;
  if (h.socket.destroyed) return;
  // headers the chain set (JWT claims, external auth's answer; '' removes an inbound copy)
  let extra: Record<string, string> | null = null;
  const flat = rc.upstreamHeaders;
  if (flat !== null) {
    extra = {};
    for (let i = 0; i < flat.length; i += 2) extra[flat[i]!] = flat[i + 1]!;
  }
  openTunnel(rc.rt, h.req, h.socket, h.head, h.t, rc.peerIP, extra);
}

function openTunnel(
  rt: ProxyRuntime,
  req: Http1Request,
  socket: net.Socket,
  head: Buffer,
  t: TunnelTarget,
  clientIP: string,
  extra: Record<string, string> | null,
): void {
  const rawHost = req.headers.host ?? '';
  // the verified client certificate (HTTPS listener) goes up as on any request; never a client's copy
  const cert = clientCertOfSocket(socket);
  if (cert !== null) (extra ??= {})[CLIENT_CERT_HEADER] = cert;
  const proto = (socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
  (socket as unknown as Record<symbol, boolean>)[kUpgraded] = true;
  rt.metrics.connection('http1', -1);
  socket.pause();
  const up = net.connect({ host: t.ep.address, port: t.ep.port, noDelay: true });
  const tunnel = new Tunnel(rt.tunnels, socket, up, t.ctx, t.cluster, t.ep, false);
  const p: Pending = {
    tunnel,
    readMs: t.ctx.readMs,
    request: upgradeRequestHead(t, req.method, req.headers, clientIP, rawHost, extra, proto),
    early: head,
    timer: setTimeout(onConnectTimeout, t.ctx.connectMs, tunnel),
    parser: null,
    status: 0,
    complete: false,
  };
  (up as unknown as Record<symbol, Pending>)[kPending] = p;
  up.once('connect', onUpstreamConnect);
}

function pendingOf(x: object): Pending {
  return (x as Record<symbol, Pending>)[kPending]!;
}

function onUpstreamConnect(this: net.Socket): void {
  const p = pendingOf(this);
  clearTimeout(p.timer);
  if (p.tunnel.closed) return;
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, p, MAX_ANSWER_HEAD, HTTPParser.kLenientNone);
  parser[kPending] = p;
  parser[kOnHeadersComplete] = onAnswerHead;
  parser[kOnMessageComplete] = onAnswerComplete;
  p.parser = parser;
  if (p.readMs > 0) p.timer = setTimeout(onAnswerTimeout, p.readMs, p);
  this.on('data', onUpstreamAnswer);
  this.write(p.request);
}

function onAnswerTimeout(p: Pending): void {
  const t = p.tunnel;
  if (t.established) return;
  doneReading(p);
  if (t.relaying) t.refuse();
  else t.answer(Errors.upstreamTimeout);
}

/** The upstream's answer needs no more parsing (tunnel open, or the exchange is over). */
function doneReading(p: Pending): void {
  clearTimeout(p.timer);
  p.tunnel.upstream.removeListener('data', onUpstreamAnswer);
  p.parser?.free();
  p.parser = null;
}

function onAnswerHead(
  this: NodeHttpParser,
  _maj: number,
  _min: number,
  _h: unknown,
  _m: unknown,
  _u: unknown,
  status: number,
): number {
  pendingOf(this).status = status;
  return 0;
}

function onAnswerComplete(this: NodeHttpParser): void {
  const p = pendingOf(this);
  // the end of a non-101 answer (interim 1xx answers are relayed and waited past)
  if (p.status >= 200) p.complete = true;
}

/**
 * Bytes of the upstream's answer go to the client as they come (a 101 head and the first frames, or
 * a refusal); what the parser saw decides what follows: a 101 opens the tunnel, the end of any
 * other response closes both sides.
 */
function onUpstreamAnswer(this: net.Socket, chunk: Buffer): void {
  const p = pendingOf(this);
  const t = p.tunnel;
  const r = p.parser!.execute(chunk);
  if (typeof r !== 'number') {
    doneReading(p);
    return t.relaying ? t.refuse() : t.answer(Errors.upstreamProtocol);
  }
  if (t.closed) return doneReading(p);
  t.client.write(chunk);
  if (p.status === 101) {
    doneReading(p);
    if (p.early.length > 0) this.write(p.early);
    t.pipe();
    return;
  }
  t.relaying = true;
  if (p.complete) {
    doneReading(p);
    t.refuse();
  }
}

function onConnectTimeout(t: Tunnel): void {
  if (!t.established) t.close(false);
}
