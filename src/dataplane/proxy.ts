// The request path, for HTTP/1.1 requests (`request` event) and HTTP/2 streams (`stream` event):
// shedding, path normalisation, route match, direct responses, the route's policy chain, backend
// choice and the start of an Exchange. One RequestContext carries the request through all of it.
// Everything per route was computed when the snapshot arrived; here it is lookups and null tests.

import type { IncomingHttpHeaders } from 'node:http';
import type { Http1Request } from './http1/request.ts';
import type { Http1Response } from './http1/response.ts';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { kRuntime, type ProxyRuntime } from './context.ts';
import { Errors, type ProxyError } from './errors.ts';
import { Exchange, REPLAY_MAX } from './exchange.ts';
import { newRequestId, upstreamRequestHeaders } from './headers.ts';
import { isGrpc, parseGrpcTimeout } from './respond.ts';
import { hashKeyFor } from './balancer/index.ts';
import { normalizePath } from './path-normalize.ts';
import { RequestContext, kRequestContext, setProceed } from './request-context.ts';
import { runPolicies } from './policy/index.ts';
import { GRPC_NONE, GRPC_UNKNOWN } from './metrics.ts';
import { CLIENT_CERT_HEADER, clientCertOf, isTlsRequest } from './client-cert.ts';

export function runtimeOf(x: object): ProxyRuntime {
  return (x as Record<symbol, ProxyRuntime>)[kRuntime]!;
}

export function clientAddress(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Shared by both protocols: shedding, config, route, direct response, policies, then the route. */
function handle(rc: RequestContext): void {
  const rt = rc.rt;
  const shed = rt.overload.admit();
  if (shed !== null) return rc.answerError(shed);
  const cfg = rt.store.peek();
  if (cfg === null) return rc.answerError(Errors.notReady);
  rc.cfg = cfg;
  const r = cfg.table.match(rc);
  if (r === null) return rc.answerError(Errors.noRoute);
  const ctx = cfg.routes.get(r.id)!;
  rc.route = ctx;
  rc.match = r;
  if (ctx.direct !== null) return rc.answerError(ctx.direct);
  const chain = ctx.policies;
  if (chain !== null) {
    if (!runPolicies(rc, chain)) {
      if (rc.pending) watchAbort(rc);
      return;
    }
  }
  startExchange(rc);
}

// a resumed request: the rest of its chain, then the route
setProceed((rc) => {
  const chain = rc.route!.policies;
  if (chain !== null && !runPolicies(rc, chain)) return;
  if (rc.passTo !== null) rc.passTo(rc);
  else startExchange(rc);
});

/**
 * Run a route's chain for a request that is not proxied as a plain exchange (a WebSocket upgrade):
 * true when it passed now; false when a policy answered it or suspended it (then `rc.passTo` runs
 * on resume).
 */
export function passesPolicies(rc: RequestContext): boolean {
  const chain = rc.route!.policies;
  if (chain === null || runPolicies(rc, chain)) return true;
  if (rc.pending) watchAbort(rc);
  return false;
}

// ---- a suspended request notices its client going away ----
function watchAbort(rc: RequestContext): void {
  const down = (rc.res ?? rc.stream!) as unknown as Record<symbol, RequestContext>;
  down[kRequestContext] = rc;
  (rc.res ?? rc.stream!).once('close', onSuspendedClose);
}
function onSuspendedClose(this: Http1Response | ServerHttp2Stream): void {
  const rc = (this as unknown as Record<symbol, RequestContext>)[kRequestContext]!;
  if (rc.pending && !rc.answered) {
    rc.aborted = true;
    // a gRPC call the client cancelled has no status of ours: counted as "unknown", not as non-gRPC
    rc.metrics.request('', 499, rc.grpc ? GRPC_UNKNOWN : GRPC_NONE);
  }
}

function startExchange(rc: RequestContext): void {
  const rt = rc.rt;
  const cfg = rc.cfg!;
  const ctx = rc.route!;
  const r = rc.match!;
  const headers = rc.headers;
  const cookie = headers.cookie;
  const pick = r.pickBackend(Array.isArray(cookie) ? cookie.join('; ') : cookie);
  const cluster = pick === null ? undefined : cfg.clusters.get(pick.cluster);
  if (cluster === undefined) return rc.answerError(Errors.noCluster);
  const clientId = headers['x-request-id'];
  const requestId = typeof clientId === 'string' && clientId !== '' ? clientId : newRequestId();
  const up = upstreamRequestHeaders(
    headers,
    { clientIP: rc.peerIP, proto: isTlsRequest(rc) ? 'https' : 'http', host: rc.host, requestId },
    rc.rawHeaders,
  );
  const cert = clientCertOf(rc);
  if (cert !== null) up[CLIENT_CERT_HEADER] = cert;
  const extra = rc.upstreamHeaders;
  if (extra !== null)
    for (let i = 0; i < extra.length; i += 2) {
      // an empty value removes the header (RequestContext.dropUpstreamHeader)
      if (extra[i + 1] === '') delete up[extra[i]!];
      else up[extra[i]!] = extra[i + 1]!;
    }
  const query = rc.query;
  const upstreamPath =
    ctx.ir.rewrite === null
      ? query === ''
        ? rc.path
        : rc.path + '?' + query
      : r.rewritePath(rc.path) + (query === '' ? '' : '?' + query);
  rt.overload.active++;
  const ex = new Exchange(
    rc,
    cluster,
    cluster.hashed ? hashKeyFor(cluster.ir, headers, rc.peerIP) : undefined,
    upstreamPath,
    r.hostRewrite ?? rc.host,
    up,
    requestId,
    pick!.setCookie,
    rc.grpc ? parseGrpcTimeout(headers['grpc-timeout']) : 0,
  );
  const body = rc.body;
  if (body === null) return ex.next();
  const contentLength = rc.contentLength;
  if (ctx.retry !== null) {
    // known small length: collect it first; unknown length (gRPC, chunked): stream it and keep a copy
    if (contentLength >= 0 && contentLength <= REPLAY_MAX) return bufferBody(ex, body);
    if (contentLength < 0) return teeBody(ex, body);
  }
  ex.body = body;
  ex.next();
}

// ---- replayable bodies: collected before the first attempt ----
const kBuf = Symbol('bulkhead.bodyChunks');
interface BodyCollector {
  ex: Exchange;
  chunks: Buffer[];
}
function bufferBody(ex: Exchange, body: Readable): void {
  (body as unknown as Record<symbol, BodyCollector>)[kBuf] = { ex, chunks: [] };
  body.on('data', collectChunk);
  body.on('end', collectEnd);
}
function collectChunk(this: Readable, chunk: Buffer): void {
  (this as unknown as Record<symbol, BodyCollector>)[kBuf]!.chunks.push(chunk);
}
function collectEnd(this: Readable): void {
  const c = (this as unknown as Record<symbol, BodyCollector>)[kBuf]!;
  const buf = c.chunks.length === 1 ? c.chunks[0]! : Buffer.concat(c.chunks);
  c.ex.body = buf;
  c.ex.onBodyBytes(buf.length);
  c.ex.next();
}

// ---- bodies of unknown length on retrying routes: streamed through a PassThrough, copied aside ----
const kTee = Symbol('bulkhead.bodyTee');
function teeBody(ex: Exchange, body: Readable): void {
  ex.startReplay();
  if (ex.cluster.h2) {
    // an h2c attempt relays the body itself and hands each chunk to the replay copy (upstream-h2.ts):
    // no PassThrough and pipe per gRPC call on routes with retries
    ex.body = body;
    return ex.next();
  }
  (body as unknown as Record<symbol, Exchange>)[kTee] = ex;
  body.on('data', teeChunk);
  body.once('end', teeEnd);
  ex.body = body.pipe(new PassThrough());
  ex.next();
}
function teeChunk(this: Readable, chunk: Buffer): void {
  (this as unknown as Record<symbol, Exchange>)[kTee]!.replayChunk(chunk);
}
function teeEnd(this: Readable): void {
  (this as unknown as Record<symbol, Exchange>)[kTee]!.replayEnd();
}

/** A request refused before it has a normalised path (414, malformed path). */
function refuse(
  rt: ProxyRuntime,
  err: ProxyError,
  res: Http1Response | null,
  stream: ServerHttp2Stream | null,
  method: string,
  host: string,
  url: string,
  headers: IncomingHttpHeaders,
  grpc: boolean,
): void {
  const rc = new RequestContext(rt, res, stream, method, host, '', '', url, headers, '', grpc, null, -1);
  rc.answerError(err);
}

function mergeSlashesOf(rt: ProxyRuntime): boolean {
  return rt.store.peek()?.mergeSlashes ?? false;
}

// ---- HTTP/1.1 ----
/**
 * A request from the HTTP/1.1 engine (http1/), which has already refused malformed and ambiguous
 * heads, checked Host, and reduced an absolute-form target to origin-form after matching its
 * authority against Host; `req.body` exists only when the request has one.
 */
export function onHttp1Request(this: object, req: Http1Request, res: Http1Response): void {
  const rt = runtimeOf(this);
  if (rt.draining) res.shouldKeepAlive = false;
  const headers = req.headers;
  const grpc = isGrpc(headers['content-type']);
  const url = req.url;
  const method = req.method;
  const rawHost = headers.host ?? '';
  if (url.length > rt.maxUriBytes)
    return refuse(rt, Errors.uriTooLong, res, null, method, rawHost, url, headers, grpc);
  const q = url.indexOf('?');
  const path = normalizePath(q === -1 ? url : url.slice(0, q), mergeSlashesOf(rt));
  if (path === null) return refuse(rt, Errors.badPath, res, null, method, rawHost, url, headers, grpc);
  const rc = new RequestContext(
    rt,
    res,
    null,
    method,
    rawHost,
    path,
    q === -1 ? '' : url.slice(q + 1),
    url,
    headers,
    clientAddress(req.socket.remoteAddress),
    grpc,
    req.body,
    req.contentLength,
  );
  handle(rc);
}

// ---- HTTP/2 ----
const kPeerIP = Symbol('bulkhead.peerIP');

/** the client address of a session, read once (`session.socket` is a Proxy: each read goes through a trap) */
function sessionPeerIP(stream: ServerHttp2Stream): string {
  const session = stream.session as unknown as Record<symbol, string | undefined> | undefined;
  if (session === undefined) return '';
  let ip = session[kPeerIP];
  if (ip === undefined) {
    ip = clientAddress(stream.session?.socket?.remoteAddress);
    session[kPeerIP] = ip;
  }
  return ip;
}

export function onH2Stream(
  this: object,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  /** the same header block as node:http2's flat list */
  raw: string[] | null = null,
): void {
  const rt = runtimeOf(this);
  const grpc = isGrpc(headers['content-type']);
  const method = (headers[':method'] as string | undefined) ?? 'GET';
  const url = (headers[':path'] as string | undefined) ?? '/';
  const rawHost = (headers[':authority'] as string | undefined) ?? headers.host ?? '';
  if (url.length > rt.maxUriBytes)
    return refuse(rt, Errors.uriTooLong, null, stream, method, rawHost, url, headers, grpc);
  const q = url.indexOf('?');
  const path = normalizePath(q === -1 ? url : url.slice(0, q), mergeSlashesOf(rt));
  if (path === null) return refuse(rt, Errors.badPath, null, stream, method, rawHost, url, headers, grpc);
  const cl = headers['content-length'];
  const rc = new RequestContext(
    rt,
    null,
    stream,
    method,
    rawHost,
    path,
    q === -1 ? '' : url.slice(q + 1),
    url,
    headers,
    sessionPeerIP(stream),
    grpc,
    stream.endAfterHeaders ? null : stream,
    cl === undefined ? -1 : Number(cl),
  );
  rc.rawHeaders = raw;
  handle(rc);
}
