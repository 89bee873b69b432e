// The data port: one net.Server whose connections are sniffed. A connection that opens with the
// HTTP/2 preface (prior-knowledge h2c) goes to the http2 server, anything else to the HTTP/1.1
// engine (http1/); the bytes read for the decision are unshifted back first. Connections are
// tracked per protocol for metrics and drain. Listener settings from a new snapshot apply to
// connections accepted after it; open connections keep the settings they started with.

import net from 'node:net';
import http2 from 'node:http2';
import cluster from 'node:cluster';
import type { ListenerIR, WebSocketIR } from '../ir/snapshot.ts';
import { kRuntime, type ProxyRuntime } from './context.ts';
import { onHttp1Request } from './proxy.ts';
import { kUpgraded } from './websocket.ts';
import { onHttp1Upgrade } from './upgrade.ts';
import {
  GuardReason,
  guardOf,
  guardSession,
  h2ServerOptions,
  h2Settings,
  sessionFailed,
  type SessionGuard,
} from './h2-guard.ts';
import { SessionIdleSweep } from './h2-session-idle.ts';
import { Http1Engine, HTTP1_DEFAULTS, type Http1Settings } from './http1/engine.ts';
import type { Reject } from './http1/reject.ts';
import { admitH2Connection } from './h2-penalty.ts';
import { RawSocket, acceptRaw, type ClientSocket, type TcpHandle } from './raw-socket.ts';
import { acceptHandles, duplicateListener } from './accept-fanout.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const kListener = Symbol('bulkhead.listener');
const kSniffed = Symbol('bulkhead.sniffed');
const kSniffTimer = Symbol('bulkhead.sniffTimer');

export class Listener {
  readonly server: net.Server;
  readonly h2: http2.Http2Server;
  readonly http1: Http1Engine;
  readonly h1Sockets = new Set<ClientSocket>();
  readonly h2Sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;
  /** connections are taken from the listening handle as RawSockets (raw-socket.ts) */
  raw = false;
  /** more accepting handles on the same socket (accept-fanout.ts) */
  readonly extraServers: net.Server[] = [];
  /** h2 sessions with no open stream for this long get GOAWAY (the listener's keep-alive timeout) */
  h2IdleMs: number;
  /** watches h2 sessions for that idleness (h2-session-idle.ts) */
  readonly h2Idle = new SessionIdleSweep<SessionGuard>(onSessionIdle);
  /** a new connection must send its first bytes within the request-header timeout */
  sniffMs: number;

  constructor(
    readonly rt: ProxyRuntime,
    l: ListenerIR,
    ws: WebSocketIR,
  ) {
    this.h2IdleMs = l.keepAliveTimeoutMs;
    this.sniffMs = l.requestHeaderTimeoutMs;
    this.http1 = new Http1Engine(http1Settings(l, rt.maxUriBytes), onHttp1Request, onHttp1Upgrade);
    (this.http1 as unknown as Record<symbol, unknown>)[kRuntime] = rt;
    this.http1.onReject = onReject.bind(null, rt);
    this.http1.onHandlerError = onHandlerError.bind(null, rt);
    // per-connection h2 limits and the guarded stream dispatch: h2-guard.ts
    this.h2 = http2.createServer(h2ServerOptions(l.maxHeaderBytes, ws.http2));
    (this.h2 as unknown as Record<symbol, unknown>)[kRuntime] = rt;
    (this.h2 as unknown as Record<symbol, unknown>)[kListener] = this;
    this.h2.on('session', onSession);
    this.server = net.createServer({ noDelay: true }, onConnection);
    (this.server as unknown as Record<symbol, unknown>)[kListener] = this;
  }

  listen(port: number, host: string, backlog: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog }, () => {
        this.server.off('error', reject);
        this.takeAccepts();
        const port = (this.server.address() as net.AddressInfo).port;
        if (!this.raw) return resolve(port);
        void this.fanOut().then(() => resolve(port));
      });
    });
  }

  private async fanOut(): Promise<void> {
    // a cluster worker's connections come from the primary, which does the accepting
    if (cluster.isWorker) return;
    const extra = await duplicateListener(this.server, acceptHandles() - 1, (msg, err) =>
      this.rt.accessLog.logger.warn(
        { err: err instanceof Error ? err.message : err },
        `accepting with one handle: ${msg}`,
      ),
    );
    for (const s of extra) {
      const h = acceptRaw(s, onRawSocket);
      if (h === null) {
        s.close();
        continue;
      }
      h[kListener] = this;
      this.extraServers.push(s);
    }
  }

  /** New snapshot: settings for connections accepted from now on. */
  configure(l: ListenerIR, ws: WebSocketIR): void {
    this.http1.configure(http1Settings(l, this.rt.maxUriBytes));
    this.h2.updateSettings(h2Settings(l.maxHeaderBytes, ws.http2));
    this.h2IdleMs = l.keepAliveTimeoutMs;
    this.sniffMs = l.requestHeaderTimeoutMs;
  }

  /**
   * Accepted connections skip net.Socket: the listening handle's `onconnection` is ours, and each
   * connection starts as a RawSocket (HTTP/1.1 stays raw; h2c becomes a net.Socket at the sniff).
   * `BULKHEAD_RAW_SOCKETS=0`, or a Node whose handle API differs, keeps net.Server's own path.
   */
  private takeAccepts(): void {
    const h = acceptRaw(this.server, onRawSocket);
    if (h === null) return;
    h[kListener] = this;
    this.raw = true;
  }

  route(socket: ClientSocket, h2: boolean): void {
    // sockets from the HTTPS listener (tls-listener.ts) arrive here without passing onConnection
    (socket as unknown as Record<symbol, unknown>)[kListener] = this;
    if (h2) return admitH2Connection(this.h2, socket as net.Socket);
    this.h1Sockets.add(socket);
    this.rt.metrics.connection('http1', 1);
    socket.on('close', onH1SocketClose);
    this.http1.accept(socket);
  }

  get connections(): number {
    return this.h1Sockets.size + this.h2Sessions.size;
  }

  /**
   * Drain step, repeated while draining: idle keep-alive connections close (busy ones close after
   * their response, which carries Connection: close), every h2 session gets GOAWAY (its open streams
   * finish). The port keeps accepting until `stopAccepting`, so clients that have not yet seen the
   * endpoint removal are still served (with Connection: close) instead of refused.
   */
  drainStep(): void {
    this.draining = true;
    this.http1.closeIdle();
    for (const sess of this.h2Sessions) if (!sess.closed) sess.close();
  }

  stopAccepting(): Promise<void> {
    for (const s of this.extraServers.splice(0)) s.close();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      // close() waits for every connection; those are handled by drain and close(), not here
      setImmediate(resolve);
    });
  }

  close(): Promise<void> {
    this.draining = true;
    for (const s of this.extraServers.splice(0)) s.close();
    this.http1.close();
    for (const sock of this.h1Sockets) sock.destroy();
    for (const sess of this.h2Sessions) sess.destroy();
    this.h2Idle.stop();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}

function http1Settings(l: ListenerIR, maxUriBytes: number): Http1Settings {
  return {
    maxHeaderBytes: l.maxHeaderBytes,
    maxHeaderCount: HTTP1_DEFAULTS.maxHeaderCount,
    maxUriBytes,
    headerTimeoutMs: l.requestHeaderTimeoutMs,
    keepAliveTimeoutMs: l.keepAliveTimeoutMs,
    maxRequestsPerConnection: l.maxRequestsPerConnection,
    bodyGraceMs: HTTP1_DEFAULTS.bodyGraceMs,
    bodyMinBytesPerSec: HTTP1_DEFAULTS.bodyMinBytesPerSec,
  };
}

/** requests the engine refused before the proxy saw them count as unrouted answers */
function onReject(rt: ProxyRuntime, r: Reject): void {
  rt.unrouted.request('', r.status);
}

/** an exception in the HTTP/1.1 request path: that connection is closed, the process serves on */
function onHandlerError(rt: ProxyRuntime, err: unknown): void {
  rt.metrics.connectionError(GuardReason.handlerException);
  rt.accessLog.logger.error(
    { where: 'http1', err: err instanceof Error ? err.stack : String(err) },
    'HTTP/1.1 request handler failed; connection closed',
  );
}

function listenerOf(x: object): Listener {
  return (x as Record<symbol, Listener>)[kListener]!;
}

function onConnection(this: net.Server, socket: net.Socket): void {
  const l = listenerOf(this);
  (socket as unknown as Record<symbol, unknown>)[kListener] = l;
  socket.on('error', ignoreSocketError);
  socket.once('data', onFirstData);
  // until the protocol is known no server owns the connection: a silent one is closed here
  if (l.sniffMs > 0) socket.setTimeout(l.sniffMs, onSniffTimeout);
}

function onSniffTimeout(this: net.Socket): void {
  this.destroy();
}

const SNIFF_MORE = 0;
const SNIFF_H1 = 1;
const SNIFF_H2 = 2;

/**
 * The first bytes of a connection, joined with any kept under kSniffed: HTTP/2 preface or not, or
 * SNIFF_MORE when they are a prefix of the preface split across packets (kept for the next read).
 */
function sniff(socket: object, chunk: Buffer): { verdict: number; buf: Buffer } {
  const slots = socket as Record<symbol, Buffer | undefined>;
  const prev = slots[kSniffed];
  const buf = prev === undefined ? chunk : Buffer.concat([prev, chunk]);
  const n = Math.min(buf.length, PREFACE.length);
  const h2 = buf.compare(PREFACE, 0, n, 0, n) === 0;
  if (h2 && n < PREFACE.length) {
    // kept past this read: a copy (a RawSocket's chunk is a view of its shared read buffer)
    slots[kSniffed] = prev === undefined ? Buffer.from(buf) : buf;
    return { verdict: SNIFF_MORE, buf };
  }
  if (prev !== undefined) slots[kSniffed] = undefined;
  return { verdict: h2 ? SNIFF_H2 : SNIFF_H1, buf };
}

function onFirstData(this: net.Socket, chunk: Buffer): void {
  const { verdict, buf } = sniff(this, chunk);
  if (verdict === SNIFF_MORE) {
    this.once('data', onFirstData);
    return;
  }
  const maybeH2 = verdict === SNIFF_H2;
  this.setTimeout(0);
  this.removeListener('timeout', onSniffTimeout);
  this.pause();
  this.unshift(buf);
  listenerOf(this).route(this, maybeH2);
  process.nextTick(resumeSocket, this);
}

function onRawSocket(this: TcpHandle, s: RawSocket): void {
  const l = this[kListener] as Listener;
  (s as unknown as Record<symbol, unknown>)[kListener] = l;
  s.on('data', onRawFirstData);
  if (l.sniffMs > 0)
    (s as unknown as Record<symbol, unknown>)[kSniffTimer] = setTimeout(destroySocket, l.sniffMs, s);
  s.resume();
}

function destroySocket(s: RawSocket): void {
  s.destroy();
}

function onRawFirstData(this: RawSocket, chunk: Buffer): void {
  const { verdict, buf } = sniff(this, chunk);
  if (verdict === SNIFF_MORE) return;
  this.removeListener('data', onRawFirstData);
  const t = (this as unknown as Record<symbol, NodeJS.Timeout | undefined>)[kSniffTimer];
  if (t !== undefined) clearTimeout(t);
  const l = listenerOf(this);
  if (verdict === SNIFF_H1) {
    l.route(this, false);
    // the engine listens now: the sniffed bytes are its first read
    this.emit('data', buf);
    return;
  }
  const s = this.toNetSocket();
  s.on('error', ignoreSocketError);
  s.pause();
  s.unshift(buf === chunk ? Buffer.from(buf) : buf);
  l.route(s, true);
  process.nextTick(resumeSocket, s);
}

function resumeSocket(socket: net.Socket): void {
  socket.resume();
}

function ignoreSocketError(): void {
  // the protocol servers handle errors on their connections; this covers the sniffing phase
}

function onH1SocketClose(this: ClientSocket): void {
  const l = listenerOf(this);
  l.h1Sockets.delete(this);
  // a raw connection handed to a tunnel closes through the net.Socket it became
  const s = (this instanceof RawSocket ? this.detachedTo : null) ?? this;
  if ((s as unknown as Record<symbol, boolean>)[kUpgraded] !== true) l.rt.metrics.connection('http1', -1);
}

function onSession(this: http2.Http2Server, session: http2.ServerHttp2Session): void {
  const l = listenerOf(this);
  try {
    l.h2Sessions.add(session);
    l.rt.metrics.connection('h2', 1);
    (session as unknown as Record<symbol, unknown>)[kListener] = l;
    session.on('close', onSessionClose);
    const g = guardSession(l.rt, session);
    if (l.h2IdleMs > 0) {
      g.idleMs = l.h2IdleMs;
      l.h2Idle.add(g);
    }
  } catch (err) {
    sessionFailed(l.rt, session, err, 'session');
  }
}

// keepAliveTimeout without an open stream (a quiet gRPC stream is not idleness): GOAWAY
function onSessionIdle(g: SessionGuard): void {
  if (!g.session.closed && !g.session.destroyed) g.session.close();
}

function onSessionClose(this: http2.ServerHttp2Session): void {
  const l = listenerOf(this);
  if (l.h2Sessions.delete(this)) l.rt.metrics.connection('h2', -1);
  const g = guardOf(this);
  if (g !== undefined) l.h2Idle.delete(g);
}
