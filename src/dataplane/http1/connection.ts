// One downstream HTTP/1.1 connection: socket bytes into llhttp, requests out to the engine's handler
// one at a time, responses back in request order. State lives on this object, reached from the
// socket and the parser through a symbol slot; every listener is a module-level function.
//
// Pipelining: when a request head completes while the previous response is still being written,
// the parser pauses right after that head (kOnHeadersComplete returns PAUSE), the rest of the bytes
// are held and the socket stops reading; the held request starts when the previous response ends.
// So at most one request per connection is in the proxy, and a pipelining client can never make us
// buffer more than one socket read. Keep-alive needs the whole request read when the response head
// goes out; a response that overtakes its request body closes the connection after it.
//
// Phases and their deadlines (checked by the engine's sweeper, no timer per request):
//   Head  from the accept or the first byte of a request to the end of its head: header timeout
//         (408 when anything was received, else a silent close)
//   Body  request body: it must arrive at `bodyMinBytesPerSec` on average after `bodyGraceMs`
//         (408 or a cut); the clock stops while we are the slow side (body backpressure)
//   Idle  keep-alive wait between requests: keep-alive timeout, then close
//   Closing  after `Connection: close` or a rejection: the socket is ended, destroyed after a linger

import { RawSocket, type ClientSocket } from '../raw-socket.ts';
import { PAUSE, REJECT, releaseParser, takeParser, type NodeHttpParser } from './parser.ts';
import { attachSocket, detachSocket, installCallbacks, kConn, onSocketFlushed } from './listeners.ts';
import { buildRequest } from './head.ts';
import { Http1Body, Http1Request, trailersOf, type BodySource } from './request.ts';
import { Http1Response, type ResponseSink } from './response.ts';
import { Rejects, rejectForParseError, type Reject } from './reject.ts';
import type { Http1Engine, Http1Settings } from './engine.ts';

const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);
const LINGER_MS = 2000;
/** a client that stops reading the tail of a last response is cut after this */
const FLUSH_MS = 60_000;

export const enum Phase {
  None = 0,
  Head = 1,
  Body = 2,
  Idle = 3,
  Closing = 4,
}
const PAUSE_BODY = 1;
const PAUSE_HELD = 2;

export class Http1Connection implements BodySource, ResponseSink {
  readonly parser: NodeHttpParser;
  req: Http1Request | null = null;
  res: Http1Response | null = null;
  /** the current request has been read to its end */
  reqDone = true;
  count = 0;
  phase = Phase.Head;
  /** ms epoch at which the current phase times out; 0 = none */
  deadline = 0;
  closed = false;
  /** no further request is read from this connection */
  stopped = false;
  /** header lines flushed early by llhttp (more than 32), or trailers */
  hbuf: string[] = [];
  ubuf = '';
  private headDone = false;
  private pending: Http1Request | Reject | null = null;
  private held: Buffer | null = null;
  private fatal: Reject | null = null;
  private rejectNow: Reject | null = null;
  private upgradeReq: Http1Request | null = null;
  /** parsed in the current read, handed to the proxy when the read is fully parsed */
  private toDispatch: Http1Request | null = null;
  private pauses = 0;
  /** the client half-closed: no more requests, close after the answer in progress */
  private peerEnded = false;
  private gotBytes = false;
  private lineSeen = false;
  private bodyStart = 0;
  private bodyBytes = 0;

  constructor(
    readonly engine: Http1Engine,
    readonly socket: ClientSocket,
    readonly s: Http1Settings,
  ) {
    this.parser = takeParser(this, s.maxHeaderBytes, installCallbacks);
    this.parser[kConn] = this;
    attachSocket(socket, this);
    if (s.headerTimeoutMs > 0) this.deadline = Date.now() + s.headerTimeoutMs;
  }

  get idle(): boolean {
    return this.phase === Phase.Idle || (this.phase === Phase.Head && !this.gotBytes);
  }

  onData(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.phase === Phase.Idle) {
      this.phase = Phase.Head;
      this.deadline = this.s.headerTimeoutMs > 0 ? Date.now() + this.s.headerTimeoutMs : 0;
      this.lineSeen = false;
    }
    if (this.phase === Phase.Head) this.gotBytes = true;
    // a read already under way when the socket was paused
    if (this.held !== null) this.held = Buffer.concat([this.held, chunk]);
    else this.execute(chunk);
  }

  /**
   * Parse one read. A request whose head completes here is handed to the proxy only after the whole
   * read is parsed, so a framing error later in the same bytes (a bad chunk, say) refuses it before
   * anything is forwarded.
   */
  private execute(buf: Buffer): void {
    let r;
    try {
      r = this.parser.execute(buf);
    } catch (err) {
      // a handler threw inside a parser callback: this connection ends, the process serves on
      this.engine.failed(err);
      this.socket.destroy();
      return;
    }
    const d = this.toDispatch;
    this.toDispatch = null;
    // llhttp reports no error for upgrade requests (Upgrade header, CONNECT): it stops after the
    // head and returns the bytes used, so a refusal or a pause there comes back as a number
    const rej0 = this.rejectNow;
    if (typeof r === 'number' && rej0 === null) {
      if (this.pending !== null) return this.hold(buf.subarray(r), d);
      if (this.phase === Phase.Head && !this.lineSeen) this.lineSeen = buf.indexOf(10) !== -1;
      const up = this.upgradeReq;
      if (up !== null) this.handOff(up, Buffer.from(buf.subarray(r)));
      else if (d !== null) this.dispatch(d);
      return;
    }
    if (typeof r !== 'number' && r.code === 'HPE_PAUSED') return this.hold(buf.subarray(r.bytesParsed), d);
    this.rejectNow = null;
    let rej: Reject;
    if (rej0 !== null || typeof r === 'number') rej = rej0!;
    else {
      // a head over the size limit before its first line ended is a URI over the limit
      const lf = this.lineSeen ? 0 : buf.indexOf(10);
      rej = rejectForParseError(r.code, r.reason, lf !== -1 && lf < r.bytesParsed);
    }
    this.stopped = true;
    if (d !== null && !this.reqDone) {
      // the request's own framing is broken: it never reaches the proxy
      this.req = null;
      this.res = null;
      this.sendReject(rej);
    } else if (d !== null) {
      // a complete request, then garbage: the request is served (with Connection: close)
      this.fatal = rej;
      this.dispatch(d);
    } else if (this.req !== null && !this.reqDone) this.abortCurrent(rej);
    else if (this.res !== null)
      this.fatal = rej; // answered after the response in progress
    else this.sendReject(rej);
  }

  /**
   * A pipelined head waits for the response in progress: keep the rest (a copy: a RawSocket's read
   * is a view of a buffer the next read overwrites), stop reading.
   */
  private hold(rest: Buffer, d: Http1Request | null): void {
    this.held = Buffer.from(rest);
    this.pause(PAUSE_HELD);
    if (d !== null) this.dispatch(d);
  }

  onHead(
    major: number,
    minor: number,
    raw: string[] | undefined,
    method: number,
    url: string | undefined,
    upgrade: boolean,
    keepAlive: boolean,
  ): number {
    if (raw === undefined) {
      raw = this.hbuf;
      url = this.ubuf;
      this.hbuf = [];
      this.ubuf = '';
    }
    this.headDone = true;
    const r = buildRequest(this.s, this.socket, major, minor, raw, method, url!, upgrade, keepAlive);
    // an upgrade we do not perform (h2c, ...) is served as plain HTTP; llhttp reads nothing after it
    if (upgrade && r instanceof Http1Request && !r.upgrade) this.stopped = true;
    if (this.res !== null) {
      this.pending = r;
      return PAUSE;
    }
    if (!(r instanceof Http1Request)) {
      this.rejectNow = r;
      return REJECT;
    }
    this.begin(r);
    return 0;
  }

  private begin(req: Http1Request): void {
    this.req = req;
    this.reqDone = !req.hasBody;
    this.count++;
    this.phase = Phase.None;
    this.deadline = 0;
    if (req.upgrade) {
      this.upgradeReq = req;
      return;
    }
    const max = this.s.maxRequestsPerConnection;
    const keep = req.keepAlive && !this.stopped && !this.engine.draining && (max <= 0 || this.count < max);
    this.res = new Http1Response(this, req, keep);
    if (req.hasBody) {
      req.body = new Http1Body(this);
      this.phase = Phase.Body;
      // with Expect: 100-continue the client waits for us: its clock starts with the 100
      if (!req.expectContinue) this.startBodyClock();
    }
    this.toDispatch = req;
  }

  private dispatch(req: Http1Request): void {
    const res = this.res;
    if (res === null || res.req !== req || this.closed) return;
    try {
      this.engine.onRequest(req, res);
    } catch (err) {
      this.engine.failed(err);
      this.socket.destroy();
    }
  }

  onBody(b: Buffer): void {
    const body = this.req?.body;
    if (body == null) return;
    this.bodyBytes += b.length;
    if (this.deadline !== 0) this.deadline = this.bodyDeadline();
    if (!body.push(b)) this.pause(PAUSE_BODY);
  }

  onMessageComplete(): void {
    this.headDone = false;
    const req = this.req;
    if (req === null) return;
    if (this.hbuf.length > 0) {
      req.trailers = trailersOf(this.hbuf);
      this.hbuf = [];
      this.ubuf = '';
    }
    this.reqDone = true;
    if (this.phase === Phase.Body) {
      this.phase = Phase.None;
      this.deadline = 0;
    }
    req.body?.push(null);
  }

  /** kOnHeaders: lines of a long head, or trailers after a chunked body */
  onHeaderLines(raw: string[], url: string): void {
    for (let i = 0; i < raw.length; i++) this.hbuf.push(raw[i]!);
    if (!this.headDone) this.ubuf += url;
  }

  // ---- BodySource ----
  onBodyRead(): void {
    const req = this.req;
    if (req === null) return;
    if (req.expectContinue) {
      req.expectContinue = false;
      if (this.res !== null && !this.res.headersSent) this.socket.write(CONTINUE);
      this.startBodyClock();
    }
    this.resume(PAUSE_BODY);
  }

  // ---- ResponseSink ----
  keepAliveAllowed(): boolean {
    const max = this.s.maxRequestsPerConnection;
    return this.reqDone && !this.stopped && !this.engine.draining && (max <= 0 || this.count < max);
  }

  onResponseEnd(res: Http1Response): void {
    if (this.res !== res) return;
    this.res = null;
    if (!res.shouldKeepAlive) return this.closeGracefully();
    this.req = null;
    const f = this.fatal;
    if (f !== null) return this.sendReject(f);
    const p = this.pending;
    if (p === null && this.peerEnded) return this.closeGracefully();
    if (p === null) {
      this.phase = Phase.Idle;
      this.gotBytes = false;
      const ka = this.s.keepAliveTimeoutMs;
      this.deadline = ka > 0 ? Date.now() + ka : 0;
      return;
    }
    // the held request starts on a later turn: a client pipelining many requests that are answered
    // synchronously must not grow the stack, and other connections get their turn in between
    setImmediate(startHeld, this);
  }

  startHeld(): void {
    const p = this.pending;
    if (p === null || this.closed || this.res !== null) return;
    this.pending = null;
    if (!(p instanceof Http1Request)) return this.sendReject(p);
    this.begin(p);
    const held = this.held;
    this.held = null;
    const up = this.upgradeReq;
    if (up !== null) return this.handOff(up, held ?? EMPTY);
    this.parser.resume();
    this.resume(PAUSE_HELD);
    if (held !== null && held.length > 0 && !this.stopped) this.execute(held);
    else {
      this.toDispatch = null;
      this.dispatch(p);
    }
  }

  // ---- endings ----
  /** The request cannot go on (body timeout, bad chunk): answer in the proxy's place, then close. */
  private abortCurrent(r: Reject): void {
    this.stopped = true;
    const body = this.req?.body;
    if (body != null && !body.destroyed) body.destroy();
    if (this.res !== null) this.res.abortWith(r);
    else this.sendReject(r);
  }

  sendReject(r: Reject): void {
    this.engine.rejected(r);
    if (!this.socket.destroyed) this.socket.write(r.bytes);
    this.closeGracefully();
  }

  /**
   * FIN after what was written; bytes still arriving are read and dropped, then a hard close: a
   * linger after the last byte left, but never before (a slow client still gets the whole answer,
   * within FLUSH_MS).
   */
  closeGracefully(): void {
    this.stopped = true;
    this.phase = Phase.Closing;
    const s = this.socket;
    if (s.writableLength === 0) this.deadline = Date.now() + LINGER_MS;
    else {
      this.deadline = Date.now() + FLUSH_MS;
      s.once('finish', onSocketFlushed);
    }
    s.end();
    if (this.pauses !== 0) {
      this.pauses = 0;
      this.socket.resume();
    }
  }

  onDeadline(): void {
    switch (this.phase) {
      case Phase.Head:
        if (this.gotBytes) this.sendReject(Rejects.headerTimeout);
        else this.socket.destroy();
        break;
      case Phase.Body:
        this.abortCurrent(Rejects.bodyTimeout);
        break;
      case Phase.Idle:
        this.closeGracefully();
        break;
      default:
        this.socket.destroy();
    }
  }

  private handOff(req: Http1Request, head: Buffer): void {
    this.detach();
    // tunnels run on net.Socket: a raw connection becomes one here, its queued writes kept in order
    const s = this.socket instanceof RawSocket ? this.socket.toNetSocket() : this.socket;
    this.engine.onUpgrade(req, s, head);
  }

  /** The socket leaves the engine (upgrade) or closed: listeners off, parser back to the pool. */
  private detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopped = true;
    this.deadline = 0;
    detachSocket(this.socket);
    this.engine.conns.delete(this);
    this.parser[kConn] = null;
    releaseParser(this.parser);
  }

  onFlushed(): void {
    if (this.phase === Phase.Closing && !this.closed) this.deadline = Date.now() + LINGER_MS;
  }

  onPeerEnd(): void {
    // requests already read (one in progress, one held) are still answered, then the engine closes
    this.peerEnded = true;
    if (this.req !== null && !this.reqDone)
      this.abortCurrent(Rejects.malformed); // truncated request
    else if (this.res === null && this.pending === null) this.closeGracefully();
  }

  onClose(): void {
    this.detach();
    this.pending = null;
    this.held = null;
    this.res?.onConnectionClosed();
    const body = this.req?.body;
    if (body != null && !body.destroyed && !body.readableEnded) body.destroy();
  }

  // ---- reading ----
  private pause(flag: number): void {
    if (this.pauses === 0) this.socket.pause();
    this.pauses |= flag;
    if (flag === PAUSE_BODY && this.phase === Phase.Body) this.deadline = 0;
  }

  private resume(flag: number): void {
    if ((this.pauses & flag) === 0) return;
    this.pauses &= ~flag;
    if (flag === PAUSE_BODY && this.phase === Phase.Body) this.startBodyClock();
    if (this.pauses === 0 && !this.closed) this.socket.resume();
  }

  private startBodyClock(): void {
    this.bodyStart = Date.now();
    this.bodyBytes = 0;
    this.deadline = this.s.bodyGraceMs > 0 ? this.bodyDeadline() : 0;
  }

  private bodyDeadline(): number {
    const rate = this.s.bodyMinBytesPerSec;
    return this.bodyStart + this.s.bodyGraceMs + (rate > 0 ? (this.bodyBytes * 1000) / rate : 0);
  }
}

function startHeld(c: Http1Connection): void {
  c.startHeld();
}
