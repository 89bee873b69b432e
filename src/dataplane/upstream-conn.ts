// One pooled HTTP/1.1 connection to an upstream endpoint: a `net` (or `tls`) socket and Node's
// llhttp in strict RESPONSE mode, serving one request at a time (no pipelining upstream). The
// attempt that holds it (upstream-http1.ts) writes the request itself; this object turns socket
// bytes into head / body / end / error calls on that attempt, and tells the endpoint
// (upstream-pool.ts) when the connection can be reused or is gone. Listeners are module-level
// functions that find the connection through a symbol slot on the socket or the parser.
//
// Socket timeout (one timer per socket, refreshed by Node on every read and write): the connect
// timeout while connecting, the route's read timeout while a request is in flight (switched off
// while the downstream is the slow side), the idle timeout while pooled.

import net from 'node:net';
import tls from 'node:tls';
import { maxHeaderSize } from 'node:http';
import {
  HTTPParser,
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  type NodeHttpParser,
} from './http1/parser.ts';
import type { Http1Attempt } from './upstream-http1.ts';
import type { Http1Endpoint } from './upstream-pool.ts';

const kUp = Symbol('bulkhead.upstreamConn');
/** the read buffer of every plaintext upstream socket in this process (see the constructor) */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** the end of a head: CRLF CRLF (llhttp in strict mode accepts no other) */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/** kOnHeadersComplete answers: parse a body, or none follows (HEAD, 1xx) */
const BODY = 0;
const NO_BODY = 1;
const REJECT = -1;

export const enum ConnState {
  Connecting = 0,
  Busy = 1,
  Idle = 2,
  Closed = 3,
}

export class UpstreamConn {
  readonly socket: net.Socket;
  readonly parser: NodeHttpParser;
  state = ConnState.Connecting;
  connected = false;
  attempt: Http1Attempt | null = null;
  /** responses completed on this connection */
  served = 0;
  /** the current attempt has seen a response byte (so a failure is not a stale keep-alive) */
  gotBytes = false;
  /** keep-alive allowed by the last response (version, Connection header) */
  keepAlive = false;
  /** the server's `Keep-Alive: timeout=N`, in ms (0 = none) */
  hintMs = 0;
  err: Error | null = null;
  private status = 0;
  private hbuf: string[] | null = null;
  /**
   * Bytes of a Content-Length body still to come when this object relays the body itself (-1:
   * llhttp parses it). The head goes to llhttp alone, cut at its CRLF CRLF; llhttp checks it (one
   * Content-Length, no Transfer-Encoding with it) and is told no body follows, and the body is then
   * a count of bytes, relayed as slices of the read. llhttp's body callback copied every slice into
   * a new ArrayBuffer (swept at every scavenge); a pause after the head cost a native Error per
   * response. `bench/parse-cost.ts` (one core): about 1.5 µs per small response this way, 1.7 µs
   * with llhttp's body callback, 4.1 µs pausing after the head.
   */
  private bodyLeft = -1;
  /** the parser is at a response's start or inside its head (not yet headers-complete) */
  private inHead = true;
  /** how much of CRLF CRLF ended the head bytes fed so far (0-3): a terminator split over reads */
  private termSeen = 0;
  /** the bytes just fed to llhttp end exactly at the head's end (so a body may be taken over) */
  private atHeadEnd = false;
  private readonly connectMs: number;
  /** read timeout to arm once a new connection is up */
  private readMs = 0;
  /** the socket's current inactivity timeout, ms (-1 = the connect timeout) */
  private timeoutMs = -1;
  /** while pooled: when it became idle, and for how long it may stay (ms) */
  private idleSince = 0;
  private idleMs = 0;

  constructor(
    readonly ep: Http1Endpoint,
    host: string,
    port: number,
    connectMs: number,
    tlsOpts: tls.ConnectionOptions | null,
  ) {
    this.connectMs = connectMs;
    let s: net.Socket;
    if (tlsOpts === null) {
      // reads land in one shared buffer and go straight to the parser: no Readable push and no
      // 'data' event per chunk. Safe because llhttp hands out copies (header strings, body
      // Buffers), so nothing keeps a view of the shared memory after the callback returns.
      s = net.connect({ host, port, noDelay: true, onread: { buffer: READ_BUFFER, callback: onRead } });
      s.once('connect', onConnect);
    } else {
      s = tls.connect({
        ...tlsOpts,
        host,
        port,
        ALPNProtocols: ['http/1.1'],
        session: ep.tlsSession ?? undefined,
      });
      s.setNoDelay(true);
      s.once('secureConnect', onConnect);
      s.on('session', onSession);
    }
    this.socket = s;
    (s as unknown as Record<symbol, UpstreamConn>)[kUp] = this;
    s.on('timeout', onTimeout);
    if (connectMs > 0) s.setTimeout(connectMs);
    if (tlsOpts !== null) s.on('data', onData);
    s.on('end', onEnd);
    s.on('drain', onDrain);
    s.on('error', onError);
    s.on('close', onClose);
    const p = new HTTPParser();
    p[kOnHeaders] = onParserHeaders;
    p[kOnHeadersComplete] = onParserHeadersComplete;
    p[kOnBody] = onParserBody;
    p[kOnMessageComplete] = onParserMessageComplete;
    p.initialize(HTTPParser.RESPONSE, this, maxHeaderSize, HTTPParser.kLenientNone);
    (p as unknown as Record<symbol, UpstreamConn>)[kUp] = this;
    this.parser = p;
  }

  /** An attempt takes the connection; `readMs` (0 = none) applies once connected. */
  take(a: Http1Attempt, readMs: number): void {
    this.attempt = a;
    this.gotBytes = false;
    this.status = 0;
    if (this.state === ConnState.Idle) {
      this.state = ConnState.Busy;
      this.arm(readMs);
    } else this.readMs = readMs;
  }

  /**
   * The socket's inactivity timeout. Node makes a new timer object on every `setTimeout` call, so
   * the value is changed only when it differs: requests of one route reuse the armed timer, and an
   * idle connection keeps its last read timeout (onTimeout checks the idle deadline instead).
   */
  private arm(ms: number): void {
    if (this.timeoutMs === ms) return;
    this.timeoutMs = ms;
    this.socket.setTimeout(ms);
  }

  /** read timeout on (after a downstream pause) or off (while the downstream is the slow side) */
  setReading(on: boolean): void {
    if (this.state !== ConnState.Busy || this.attempt === null) return;
    if (on) {
      this.arm(this.attempt.readMs);
      this.socket.resume();
    } else {
      this.socket.pause();
      this.arm(0);
    }
  }

  connectedNow(): void {
    this.connected = true;
    if (this.state === ConnState.Closed) return;
    this.state = ConnState.Busy;
    this.arm(this.attempt === null ? 0 : this.readMs);
  }

  /** The attempt is over with the response complete: back to the pool, or closed. */
  idle(idleMs: number): void {
    this.attempt = null;
    this.state = ConnState.Idle;
    this.idleSince = Date.now();
    this.idleMs = idleMs;
    // no read timeout armed: the idle timeout needs a timer of its own
    if (this.timeoutMs <= 0 || this.timeoutMs > idleMs) this.arm(idleMs);
    // a paused socket (backpressure at the very end) must notice the server closing it while pooled
    if (this.socket.isPaused()) this.socket.resume();
  }

  destroy(): void {
    if (this.state === ConnState.Closed) return;
    this.state = ConnState.Closed;
    this.attempt = null;
    this.socket.destroy();
  }

  // ---- parser ----
  onHead(raw: string[] | undefined, status: number, keepAlive: boolean, upgrade: boolean): number {
    if (raw === undefined) {
      raw = this.hbuf ?? [];
      this.hbuf = null;
    }
    this.inHead = false;
    const a = this.attempt;
    // bytes nobody asked for (a response on an idle connection), or a switch we never requested
    if (a === null || upgrade || status === 101) return REJECT;
    this.status = status;
    if (status < 200) return NO_BODY; // 100 Continue, 103 Early Hints: not relayed, the answer follows
    this.keepAlive = keepAlive;
    this.hintMs = keepAlive ? keepAliveHint(raw) : 0;
    a.onUpstreamHead(status, raw);
    if (a.method === 'HEAD') return NO_BODY;
    if (this.atHeadEnd && status !== 204 && status !== 304) {
      const n = plainContentLength(raw);
      if (n >= 0) {
        // llhttp ends the message here (no body, as for HEAD); ownBody() relays the n bytes
        this.bodyLeft = n;
        return NO_BODY;
      }
    }
    return BODY;
  }

  onHeaderLines(raw: string[]): void {
    const h = (this.hbuf ??= []);
    for (let i = 0; i < raw.length; i++) h.push(raw[i]!);
  }

  onBody(b: Buffer): void {
    this.attempt?.onUpstreamData(b);
  }

  onMessageComplete(): void {
    // llhttp ended a head whose body this object relays: the response is not over yet
    if (this.bodyLeft >= 0) return;
    this.inHead = true;
    this.termSeen = 0;
    if (this.status < 200) return; // an interim answer ended; the real one is next
    this.complete();
  }

  private complete(): void {
    const trailers = this.hbuf;
    this.hbuf = null;
    this.served++;
    const a = this.attempt;
    if (a !== null) a.onUpstreamEnd(trailers);
  }

  // ---- socket ----
  onData(chunk: Buffer): void {
    if (this.state === ConnState.Idle) {
      // an idle connection has nothing to say; anything it sends is a protocol error
      this.destroy();
      this.ep.forget(this);
      return;
    }
    this.gotBytes = true;
    let at = 0;
    // (a Content-Length: 0 head completes its response with no byte after it)
    while (at < chunk.length || this.bodyLeft === 0) {
      if (this.bodyLeft >= 0) return this.ownBody(chunk, at);
      // a head goes to llhttp alone, up to its end, so that its body can be taken over
      const end = this.inHead ? this.headEnd(chunk, at) : -1;
      this.atHeadEnd = end !== -1;
      const part = end === -1 ? (at === 0 ? chunk : chunk.subarray(at)) : chunk.subarray(at, end);
      let r: number | Error;
      try {
        r = this.parser.execute(part);
      } catch (err) {
        // a handler threw inside a parser callback: this exchange fails, the process serves on
        this.err = err as Error;
        this.socket.destroy();
        return;
      }
      this.atHeadEnd = false;
      if (typeof r !== 'number') {
        this.err = r;
        this.socket.destroy();
        return;
      }
      if (this.state === ConnState.Closed) return;
      at = end === -1 ? chunk.length : end;
    }
  }

  /**
   * Where the head that starts (or continues) at `chunk[from]` ends: just past its CRLF CRLF, or -1
   * when it does not end in this read. A terminator split over reads is followed with `termSeen`.
   */
  private headEnd(chunk: Buffer, from: number): number {
    let k = this.termSeen;
    if (k > 0) {
      let i = from;
      while (k < 4 && i < chunk.length && chunk[i] === HEAD_END[k]) {
        k++;
        i++;
      }
      if (k === 4) {
        this.termSeen = 0;
        return i;
      }
    }
    const e = chunk.indexOf(HEAD_END, from);
    if (e !== -1) {
      this.termSeen = 0;
      return e + 4;
    }
    // the longest end of this read that begins a CRLF CRLF
    const n = chunk.length;
    if (n - from >= 3 && chunk[n - 3] === 13 && chunk[n - 2] === 10 && chunk[n - 1] === 13) this.termSeen = 3;
    else if (n - from >= 2 && chunk[n - 2] === 13 && chunk[n - 1] === 10) this.termSeen = 2;
    else if (n - from >= 1 && chunk[n - 1] === 13) this.termSeen = 1;
    else this.termSeen = 0;
    return -1;
  }

  /**
   * The rest of the read, `chunk[from..]`, as Content-Length body bytes; the response completes
   * with the last one, and bytes after it (nobody asked for them) drop the connection.
   */
  private ownBody(chunk: Buffer, from: number): void {
    const take = Math.min(chunk.length - from, this.bodyLeft);
    if (take > 0) {
      this.bodyLeft -= take;
      const part = chunk.subarray(from, from + take);
      // a plaintext read is a view of the shared read buffer, which the next read overwrites
      this.onBody(chunk.buffer === READ_BUFFER.buffer ? Buffer.from(part) : part);
      if (this.state === ConnState.Closed) return;
    }
    if (this.bodyLeft > 0) return;
    this.bodyLeft = -1;
    this.inHead = true;
    this.termSeen = 0;
    this.complete();
    if (from + take < chunk.length && this.state !== ConnState.Closed) {
      this.destroy();
      this.ep.forget(this);
    }
  }

  /** the server closed its side: the end of a close-delimited body, or a cut */
  onPeerEnd(): void {
    if (this.attempt !== null && this.state === ConnState.Busy) {
      if (this.bodyLeft > 0)
        this.err = Object.assign(new Error(`upstream closed with ${this.bodyLeft} body bytes to come`), {
          code: 'HPE_INVALID_EOF_STATE',
        });
      else {
        const r = this.parser.finish();
        if (r !== undefined && typeof r !== 'number') this.err = r;
      }
    }
    this.socket.destroy();
  }

  onClosed(): void {
    const a = this.attempt;
    this.state = ConnState.Closed;
    this.attempt = null;
    this.parser.remove();
    this.parser.free();
    this.ep.forget(this);
    if (a !== null) a.onConnLost(this, this.err, this.connected);
  }

  onTimeout(): void {
    const a = this.attempt;
    if (this.state === ConnState.Idle) {
      const left = this.idleSince + this.idleMs - Date.now();
      if (left > 0) {
        // the read timeout of the last request fired first: wait out the rest of the idle time
        this.timeoutMs = left;
        this.socket.setTimeout(left);
        return;
      }
    } else if (!this.connected) {
      this.err = Object.assign(new Error(`connect timeout after ${this.connectMs} ms`), {
        code: 'UND_ERR_CONNECT_TIMEOUT',
      });
    } else if (a !== null && this.state === ConnState.Busy) {
      this.err = Object.assign(new Error(`no response bytes for ${a.readMs} ms`), {
        code: 'UND_ERR_HEADERS_TIMEOUT',
      });
    }
    this.socket.destroy();
  }
}

/**
 * The body length of a response framed by Content-Length alone, or -1 (no Content-Length, or a
 * Transfer-Encoding that llhttp frames). llhttp has already refused malformed and conflicting values.
 */
function plainContentLength(raw: string[]): number {
  let n = -1;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const v = raw[i + 1]!.trim();
      if (!/^\d{1,15}$/.test(v)) return -1;
      n = Number(v);
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') return -1;
  }
  return n;
}

/** `Keep-Alive: timeout=N` in ms, or 0. */
function keepAliveHint(raw: string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
    const m = /timeout\s*=\s*(\d+)/i.exec(raw[i + 1]!);
    if (m !== null) return Number(m[1]) * 1000;
  }
  return 0;
}

function connOf(x: object): UpstreamConn {
  return (x as Record<symbol, UpstreamConn>)[kUp]!;
}
function onConnect(this: net.Socket): void {
  connOf(this).connectedNow();
}
function onSession(this: tls.TLSSocket, session: Buffer): void {
  connOf(this).ep.tlsSession = session;
}
function onData(this: net.Socket, chunk: Buffer): void {
  connOf(this).onData(chunk);
}
function onRead(this: net.Socket, n: number, buf: Buffer): boolean {
  connOf(this).onData(buf.subarray(0, n));
  return true;
}
function onEnd(this: net.Socket): void {
  connOf(this).onPeerEnd();
}
function onDrain(this: net.Socket): void {
  connOf(this).attempt?.onSocketDrain();
}
function onError(this: net.Socket, err: Error): void {
  const c = connOf(this);
  c.err ??= err;
}
function onClose(this: net.Socket): void {
  connOf(this).onClosed();
}
function onTimeout(this: net.Socket): void {
  connOf(this).onTimeout();
}
function onParserHeaders(this: NodeHttpParser, raw: string[]): void {
  connOf(this).onHeaderLines(raw);
}
function onParserHeadersComplete(
  this: NodeHttpParser,
  _major: number,
  _minor: number,
  raw: string[] | undefined,
  _method: unknown,
  _url: unknown,
  status: number,
  _statusText: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return connOf(this).onHead(raw, status, keepAlive, upgrade);
}
function onParserBody(this: NodeHttpParser, b: Buffer): void {
  connOf(this).onBody(b);
}
function onParserMessageComplete(this: NodeHttpParser): void {
  connOf(this).onMessageComplete();
}
