// RFC 8441: WebSocket over HTTP/2 (extended CONNECT with `:protocol websocket`), enabled per pool by
// `websocket.http2`, which also turns on SETTINGS_ENABLE_CONNECT_PROTOCOL. The upstream still gets
// an ordinary HTTP/1.1 Upgrade (backends rarely speak RFC 8441): the proxy supplies the
// Sec-WebSocket-Key that h2 clients do not send, reads the upstream's response head, answers the
// client's stream with 200 on a 101, and then tunnels the frames inside the h2 stream. The route's
// policy chain runs before the upstream is contacted (a rate limit counts the upgrade as a request).

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { ProxyRuntime } from './context.ts';
import { Errors } from './errors.ts';
import { answerH2 } from './respond.ts';
import { clientAddress, passesPolicies } from './proxy.ts';
import { RequestContext } from './request-context.ts';
import {
  Tunnel,
  resolveTunnel,
  upgradeNotAuthenticated,
  upgradeRequestHead,
  type TunnelTarget,
} from './websocket.ts';

const kH2Tunnel = Symbol('bulkhead.h2tunnel');
const MAX_HEAD = 16 * 1024;

interface PendingH2 {
  tunnel: Tunnel;
  payload: Buffer;
  timer: NodeJS.Timeout;
}

/** CONNECT streams: extended CONNECT for WebSocket is tunnelled, anything else refused (405). */
export function onH2Connect(rt: ProxyRuntime, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const cfg = rt.store.peek();
  if (headers[':protocol'] !== 'websocket' || cfg === null || !cfg.snapshot.websocket.http2) {
    return answerH2(
      stream,
      {
        ...Errors.noRoute,
        status: 405,
        reason: 'connect-not-allowed',
        body: Buffer.from('CONNECT is only accepted for WebSocket (RFC 8441)\n'),
      },
      false,
      null,
    );
  }
  const rawHost = (headers[':authority'] as string | undefined) ?? '';
  const url = (headers[':path'] as string | undefined) ?? '/';
  const clientIP = clientAddress(stream.session?.socket?.remoteAddress);
  const t = resolveTunnel(rt, rawHost, rawHost, url, 'GET', headers, clientIP);
  if ('code' in t) return answerH2(stream, t, false, null);
  // the policy chain does not run on RFC 8441 CONNECT yet: never tunnel past a route's auth
  if (t.ctx.ir.auth !== null) return answerH2(stream, upgradeNotAuthenticated, false, null);
  if (t.ctx.policies !== null) {
    // the route's policy chain runs first (see upgrade.ts); it answers on the stream itself
    const q = url.indexOf('?');
    const rc = new RequestContext(
      rt,
      null,
      stream,
      'GET',
      rawHost,
      q === -1 ? url : url.slice(0, q),
      q === -1 ? '' : url.slice(q + 1),
      url,
      headers,
      clientIP,
      false,
      null,
      -1,
    );
    rc.cfg = t.cfg;
    rc.route = t.ctx;
    rc.passTo = passedChain;
    (rc as unknown as Record<symbol, TunnelTarget>)[kTarget] = t;
    if (passesPolicies(rc)) passedChain(rc);
    return;
  }
  openTunnel(rt, stream, headers, t, clientIP);
}

const kTarget = Symbol('bulkhead.h2UpgradeTarget');
function passedChain(rc: RequestContext): void {
  const stream = rc.stream!;
  if (stream.destroyed || stream.closed) return;
  openTunnel(rc.rt, stream, rc.headers, (rc as unknown as Record<symbol, TunnelTarget>)[kTarget]!, rc.peerIP);
}

function openTunnel(
  rt: ProxyRuntime,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  t: TunnelTarget,
  clientIP: string,
): void {
  const up = net.connect({ host: t.ep.address, port: t.ep.port, noDelay: true });
  const tunnel = new Tunnel(rt.tunnels, stream, up, t.ctx, t.cluster, t.ep, true);
  const rawHost = (headers[':authority'] as string | undefined) ?? '';
  const version = headers['sec-websocket-version'];
  const extra = {
    'sec-websocket-key': randomBytes(16).toString('base64'),
    'sec-websocket-version': typeof version === 'string' ? version : '13',
  };
  const p: PendingH2 = {
    tunnel,
    payload: upgradeRequestHead(t, 'GET', headers, clientIP, rawHost, extra),
    timer: setTimeout(onConnectTimeout, t.ctx.connectMs, tunnel),
  };
  (up as unknown as Record<symbol, PendingH2>)[kH2Tunnel] = p;
  up.once('connect', onConnect);
}

function onConnect(this: net.Socket): void {
  const p = (this as unknown as Record<symbol, PendingH2>)[kH2Tunnel]!;
  clearTimeout(p.timer);
  if (p.tunnel.closed) return;
  this.on('data', onHeadData);
  this.write(p.payload);
}

function onConnectTimeout(t: Tunnel): void {
  if (!t.established) t.close(false);
}

function onHeadData(this: net.Socket, chunk: Buffer): void {
  const t = (this as unknown as Record<symbol, PendingH2>)[kH2Tunnel]!.tunnel;
  const buf = t.headBuf === null ? chunk : Buffer.concat([t.headBuf, chunk]);
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) {
    if (buf.length > MAX_HEAD) t.close(false);
    else t.headBuf = buf;
    return;
  }
  this.off('data', onHeadData);
  this.pause();
  t.headBuf = null;
  const head = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(head[0]!.split(' ')[1]);
  const stream = t.client as ServerHttp2Stream;
  if (stream.destroyed) return t.close(false);
  if (status !== 101) {
    stream.respond(
      {
        ':status': status >= 200 && status < 600 ? status : 502,
        'x-bulkhead-reason': 'upstream-refused-upgrade',
      },
      { endStream: true },
    );
    t.established = true; // answered; close() must not answer again
    return t.close(false);
  }
  const out: Record<string, string | number> = { ':status': 200 };
  for (let i = 1; i < head.length; i++) {
    const line = head[i]!;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === 'sec-websocket-protocol' || name === 'sec-websocket-extensions')
      out[name] = line.slice(colon + 1).trim();
  }
  stream.respond(out);
  const rest = buf.subarray(end + 4);
  if (rest.length > 0) stream.write(rest);
  t.pipe();
  this.resume();
}
