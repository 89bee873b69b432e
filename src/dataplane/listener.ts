// The data port: one net.Server whose connections are sniffed. A connection that opens with the
// HTTP/2 preface (prior-knowledge h2c) goes to the http2 server, anything else to the HTTP/1.1
// server; the bytes read for the decision are unshifted back first. Connections are tracked per
// protocol for metrics and drain. Listener settings from a new snapshot apply to new connections:
// timeouts are updated in place, a new header size limit gets a fresh HTTP/1.1 server (Node fixes
// maxHeaderSize at creation) while the old one keeps serving its open connections.

import net from 'node:net';
import http from 'node:http';
import http2 from 'node:http2';
import type { ListenerIR, WebSocketIR } from '../ir/snapshot.ts';
import { kRuntime, type ProxyRuntime } from './context.ts';
import { onH2Stream, onHttp1Request, runtimeOf } from './proxy.ts';
import { kUpgraded } from './websocket.ts';
import { onHttp1Upgrade } from './upgrade.ts';
import { onH2Connect } from './websocket-h2.ts';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const kListener = Symbol('bulkhead.listener');
const kSniffed = Symbol('bulkhead.sniffed');
const HEADER_CHECK_MS = 1000;
const kOpenStreams = Symbol('bulkhead.openStreams');
const kSessionOf = Symbol('bulkhead.sessionOf');

export class Listener {
  readonly server: net.Server;
  readonly h2: http2.Http2Server;
  private http1: http.Server;
  private maxHeaderBytes: number;
  private readonly http1Servers = new Set<http.Server>();
  readonly h1Sockets = new Set<net.Socket>();
  readonly h2Sessions = new Set<http2.ServerHttp2Session>();
  private draining = false;
  /** h2 sessions with no open stream for this long get GOAWAY (the listener's keep-alive timeout) */
  h2IdleMs: number;

  constructor(
    readonly rt: ProxyRuntime,
    l: ListenerIR,
    ws: WebSocketIR,
  ) {
    this.maxHeaderBytes = l.maxHeaderBytes;
    this.h2IdleMs = l.keepAliveTimeoutMs;
    this.http1 = this.newHttp1(l);
    this.h2 = http2.createServer({
      settings: { enableConnectProtocol: ws.http2, maxHeaderListSize: l.maxHeaderBytes },
      maxSessionMemory: 64,
    });
    (this.h2 as unknown as Record<symbol, unknown>)[kRuntime] = rt;
    (this.h2 as unknown as Record<symbol, unknown>)[kListener] = this;
    this.h2.on('stream', onStream);
    this.h2.on('session', onSession);
    this.server = net.createServer({ noDelay: true }, onConnection);
    (this.server as unknown as Record<symbol, unknown>)[kListener] = this;
  }

  private newHttp1(l: ListenerIR): http.Server {
    const s = http.createServer({
      maxHeaderSize: l.maxHeaderBytes,
      headersTimeout: l.requestHeaderTimeoutMs,
      // the body's pace is governed by the route's send timeout, not by a whole-request limit
      requestTimeout: 0,
      keepAliveTimeout: l.keepAliveTimeoutMs,
      // how often expired header timeouts are looked for (Node's default is 30 s)
      connectionsCheckingInterval: HEADER_CHECK_MS,
      noDelay: true,
    });
    s.maxRequestsPerSocket = l.maxRequestsPerConnection;
    (s as unknown as Record<symbol, unknown>)[kRuntime] = this.rt;
    s.on('request', onHttp1Request);
    s.on('upgrade', onHttp1Upgrade);
    // this server never listens itself (connections arrive from the sniffer), but Node arms the
    // header-timeout checker on 'listening': without it a slow client could hold headers open forever
    s.emit('listening');
    this.http1Servers.add(s);
    return s;
  }

  listen(port: number, host: string, backlog: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** New snapshot: settings for connections accepted from now on. */
  configure(l: ListenerIR, ws: WebSocketIR): void {
    if (l.maxHeaderBytes !== this.maxHeaderBytes) {
      this.maxHeaderBytes = l.maxHeaderBytes;
      this.http1 = this.newHttp1(l);
    } else {
      const s = this.http1;
      s.keepAliveTimeout = l.keepAliveTimeoutMs;
      s.headersTimeout = l.requestHeaderTimeoutMs;
      s.maxRequestsPerSocket = l.maxRequestsPerConnection;
    }
    this.h2.updateSettings({ enableConnectProtocol: ws.http2, maxHeaderListSize: l.maxHeaderBytes });
    this.h2IdleMs = l.keepAliveTimeoutMs;
  }

  route(socket: net.Socket, h2: boolean): void {
    // sockets from the HTTPS listener (tls-listener.ts) arrive here without passing onConnection
    (socket as unknown as Record<symbol, unknown>)[kListener] = this;
    if (h2) {
      this.h2.emit('connection', socket);
      return;
    }
    this.h1Sockets.add(socket);
    this.rt.metrics.connection('http1', 1);
    socket.on('close', onH1SocketClose);
    this.http1.emit('connection', socket);
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
    for (const s of this.http1Servers) s.closeIdleConnections();
    for (const sess of this.h2Sessions) if (!sess.closed) sess.close();
  }

  stopAccepting(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      // close() waits for every connection; those are handled by drain and close(), not here
      setImmediate(resolve);
    });
  }

  close(): Promise<void> {
    this.draining = true;
    for (const sock of this.h1Sockets) sock.destroy();
    for (const sess of this.h2Sessions) sess.destroy();
    for (const s of this.http1Servers) {
      s.closeAllConnections();
      s.close(); // stops the header-timeout checker
    }
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }
}

function listenerOf(x: object): Listener {
  return (x as Record<symbol, Listener>)[kListener]!;
}

function onConnection(this: net.Server, socket: net.Socket): void {
  (socket as unknown as Record<symbol, unknown>)[kListener] = listenerOf(this);
  socket.on('error', ignoreSocketError);
  socket.once('data', onFirstData);
}

function onFirstData(this: net.Socket, chunk: Buffer): void {
  const prev = (this as unknown as Record<symbol, Buffer | undefined>)[kSniffed];
  const buf = prev === undefined ? chunk : Buffer.concat([prev, chunk]);
  const n = Math.min(buf.length, PREFACE.length);
  const maybeH2 = buf.compare(PREFACE, 0, n, 0, n) === 0;
  if (maybeH2 && n < PREFACE.length) {
    // a preface split across packets: wait for the rest before deciding
    (this as unknown as Record<symbol, Buffer>)[kSniffed] = buf;
    this.once('data', onFirstData);
    return;
  }
  this.pause();
  this.unshift(buf);
  listenerOf(this).route(this, maybeH2);
  process.nextTick(resumeSocket, this);
}

function resumeSocket(socket: net.Socket): void {
  socket.resume();
}

function ignoreSocketError(): void {
  // the protocol servers handle errors on their connections; this covers the sniffing phase
}

function onH1SocketClose(this: net.Socket): void {
  const l = listenerOf(this);
  l.h1Sockets.delete(this);
  if ((this as unknown as Record<symbol, boolean>)[kUpgraded] !== true) l.rt.metrics.connection('http1', -1);
}

function onSession(this: http2.Http2Server, session: http2.ServerHttp2Session): void {
  const l = listenerOf(this);
  l.h2Sessions.add(session);
  l.rt.metrics.connection('h2', 1);
  (session as unknown as Record<symbol, unknown>)[kListener] = l;
  session.on('close', onSessionClose);
  session.on('error', ignoreSocketError);
  (session as unknown as Record<symbol, number>)[kOpenStreams] = 0;
  if (l.h2IdleMs > 0) session.setTimeout(l.h2IdleMs, onSessionIdle);
}

// A session's timer fires after keepAliveTimeout without any frame. With streams still open (a quiet
// gRPC stream) that is not idleness and the session stays; without any, it gets GOAWAY.
function onSessionIdle(this: http2.ServerHttp2Session): void {
  if ((this as unknown as Record<symbol, number>)[kOpenStreams] === 0 && !this.closed) this.close();
}

function onStreamClosed(this: http2.ServerHttp2Stream): void {
  const s = (this as unknown as Record<symbol, http2.Http2Session>)[kSessionOf];
  (s as unknown as Record<symbol, number>)[kOpenStreams]!--;
}

function onSessionClose(this: http2.ServerHttp2Session): void {
  const l = listenerOf(this);
  if (l.h2Sessions.delete(this)) l.rt.metrics.connection('h2', -1);
}

function onStream(
  this: http2.Http2Server,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
): void {
  const session = stream.session!;
  (session as unknown as Record<symbol, number>)[kOpenStreams]!++;
  (stream as unknown as Record<symbol, http2.Http2Session>)[kSessionOf] = session;
  stream.once('close', onStreamClosed);
  if (headers[':method'] === 'CONNECT') {
    stream.on('error', ignoreSocketError);
    return onH2Connect(runtimeOf(this), stream, headers);
  }
  onH2Stream.call(this, stream, headers);
}
