// The request path: shedding checks, route match, direct responses, backend choice and the start
// of an Exchange, for HTTP/1.1 requests (`request` event) and HTTP/2 streams (`stream` event).
// Everything per route was computed when the snapshot arrived; here it is lookups and null tests.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { kRuntime, type ProxyRuntime } from './context.ts';
import { Errors, type ProxyError } from './errors.ts';
import { Exchange, REPLAY_MAX } from './exchange.ts';
import { PassThrough } from 'node:stream';
import { newRequestId, upstreamRequestHeaders } from './headers.ts';
import { answerH1, answerH2, isGrpc, parseGrpcTimeout } from './respond.ts';
import { hashKeyFor } from './balancer/index.ts';
import type { RouteContext, RuntimeConfig } from './runtime-config.ts';
import type { CompiledRoute } from './router/route-table.ts';
import type { RouteMetrics } from './metrics.ts';

export function runtimeOf(x: object): ProxyRuntime {
  return (x as Record<symbol, ProxyRuntime>)[kRuntime]!;
}

export function clientAddress(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

function answerUnrouted(
  rt: ProxyRuntime,
  err: ProxyError,
  m: RouteMetrics,
  res: ServerResponse | null,
  stream: ServerHttp2Stream | null,
  grpc: boolean,
  method: string,
  host: string,
  path: string,
): void {
  const status = grpc ? 200 : err.status;
  m.request('', status);
  if (res !== null) answerH1(res, err, grpc, null);
  else answerH2(stream!, err, grpc, null);
  if (rt.accessLog.sampled()) {
    rt.accessLog.write({
      requestId: '',
      protocol: res !== null ? 'http1' : 'h2',
      method,
      host,
      path: path.length > 1024 ? path.slice(0, 1024) : path,
      route: m.routeId === '' ? null : m.routeId,
      cluster: null,
      upstream: null,
      status,
      durationMs: 0,
      upstreamMs: 0,
      bytesIn: 0,
      bytesOut: err.body.length,
      retries: 0,
      reason: err.reason,
    });
  }
}

interface Routed {
  cfg: RuntimeConfig;
  ctx: RouteContext;
}

/** Shared by both protocols: shedding, config, route, direct response. null = already answered. */
function route(
  rt: ProxyRuntime,
  host: string,
  path: string,
  query: string,
  method: string,
  headers: IncomingHttpHeaders,
  grpc: boolean,
  res: ServerResponse | null,
  stream: ServerHttp2Stream | null,
): (Routed & { route: CompiledRoute }) | null {
  const shed = rt.overload.admit();
  if (shed !== null) {
    answerUnrouted(rt, shed, rt.unrouted, res, stream, grpc, method, host, path);
    return null;
  }
  const cfg = rt.store.peek();
  if (cfg === null) {
    answerUnrouted(rt, Errors.notReady, rt.unrouted, res, stream, grpc, method, host, path);
    return null;
  }
  const r = cfg.table.match({ host, path, query, method, headers });
  if (r === null) {
    answerUnrouted(rt, Errors.noRoute, rt.unrouted, res, stream, grpc, method, host, path);
    return null;
  }
  const ctx = cfg.routes.get(r.id)!;
  if (ctx.direct !== null) {
    answerUnrouted(rt, ctx.direct, ctx.metrics, res, stream, grpc, method, host, path);
    return null;
  }
  return { cfg, ctx, route: r };
}

function startExchange(
  rt: ProxyRuntime,
  routed: Routed & { route: CompiledRoute },
  headers: IncomingHttpHeaders,
  clientIP: string,
  res: ServerResponse | null,
  stream: ServerHttp2Stream | null,
  method: string,
  rawHost: string,
  path: string,
  query: string,
  /** the request target as the client sent it (for the access log) */
  url: string,
  grpc: boolean,
  body: Readable | null,
  contentLength: number,
): void {
  const { cfg, ctx, route: r } = routed;
  const cookie = headers.cookie;
  const pick = r.pickBackend(Array.isArray(cookie) ? cookie.join('; ') : cookie);
  const cluster = pick === null ? undefined : cfg.clusters.get(pick.cluster);
  if (cluster === undefined) {
    answerUnrouted(rt, Errors.noCluster, ctx.metrics, res, stream, grpc, method, rawHost, path);
    return;
  }
  const clientId = headers['x-request-id'];
  const requestId = typeof clientId === 'string' && clientId !== '' ? clientId : newRequestId();
  const up = upstreamRequestHeaders(headers, { clientIP, proto: 'http', host: rawHost, requestId });
  const upstreamPath =
    ctx.ir.rewrite === null
      ? query === ''
        ? path
        : path + '?' + query
      : r.rewritePath(path) + (query === '' ? '' : '?' + query);
  const te = headers.te;
  rt.overload.active++;
  const ex = new Exchange(
    rt,
    cfg,
    ctx,
    cluster,
    cluster.hashed ? hashKeyFor(cluster.ir, headers, clientIP) : undefined,
    res,
    stream,
    method,
    rawHost,
    upstreamPath,
    url,
    r.hostRewrite ?? rawHost,
    up,
    requestId,
    grpc,
    typeof te === 'string' && te.includes('trailers'),
    pick!.setCookie,
    grpc ? parseGrpcTimeout(headers['grpc-timeout']) : 0,
  );
  if (body === null) return ex.next();
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
  (body as unknown as Record<symbol, Exchange>)[kTee] = ex;
  ex.startReplay();
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

// ---- HTTP/1.1 ----
export function onHttp1Request(this: object, req: IncomingMessage, res: ServerResponse): void {
  const rt = runtimeOf(this);
  if (rt.draining) res.shouldKeepAlive = false;
  const headers = req.headers;
  const grpc = isGrpc(headers['content-type']);
  let url = req.url ?? '/';
  if (url.length > rt.maxUriBytes)
    return answerUnrouted(
      rt,
      Errors.uriTooLong,
      rt.unrouted,
      res,
      null,
      grpc,
      req.method ?? 'GET',
      headers.host ?? '',
      url,
    );
  let rawHost = headers.host ?? '';
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (`GET http://host/path`): the URL's authority wins over Host
    const scheme = url.indexOf('://');
    if (scheme !== -1) {
      const slash = url.indexOf('/', scheme + 3);
      rawHost = url.slice(scheme + 3, slash === -1 ? url.length : slash);
      url = slash === -1 ? '/' : url.slice(slash);
    }
  }
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const method = req.method ?? 'GET';
  const routed = route(rt, rawHost, path, query, method, headers, grpc, res, null);
  if (routed === null) return;
  const cl = headers['content-length'];
  const hasBody = cl !== undefined ? cl !== '0' : headers['transfer-encoding'] !== undefined;
  startExchange(
    rt,
    routed,
    headers,
    clientAddress(req.socket.remoteAddress),
    res,
    null,
    method,
    rawHost,
    path,
    query,
    url,
    grpc,
    hasBody ? req : null,
    cl === undefined ? -1 : Number(cl),
  );
}

// ---- HTTP/2 ----
export function onH2Stream(this: object, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const rt = runtimeOf(this);
  const grpc = isGrpc(headers['content-type']);
  const method = (headers[':method'] as string | undefined) ?? 'GET';
  const url = (headers[':path'] as string | undefined) ?? '/';
  if (url.length > rt.maxUriBytes)
    return answerUnrouted(
      rt,
      Errors.uriTooLong,
      rt.unrouted,
      null,
      stream,
      grpc,
      method,
      String(headers[':authority'] ?? ''),
      url,
    );
  const rawHost = (headers[':authority'] as string | undefined) ?? headers.host ?? '';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  const routed = route(rt, rawHost, path, query, method, headers, grpc, null, stream);
  if (routed === null) return;
  const cl = headers['content-length'];
  const hasBody = !stream.endAfterHeaders;
  startExchange(
    rt,
    routed,
    headers,
    clientAddress(stream.session?.socket?.remoteAddress),
    null,
    stream,
    method,
    rawHost,
    path,
    query,
    url,
    grpc,
    hasBody ? stream : null,
    cl === undefined ? -1 : Number(cl),
  );
}
