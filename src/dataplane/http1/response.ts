// The response side of one HTTP/1.1 exchange, with the slice of node:http's ServerResponse that the
// proxy uses: writeHead(status, flat), write, end, addTrailers, destroy, headersSent, destroyed,
// writableEnded, shouldKeepAlive, sendDate, and the events 'drain' and 'close' ('close' exactly once:
// after end(), or when the connection died first).
// Framing: a Content-Length from the caller is relayed as-is (bytes pass through unchanged);
// without one the body is chunked for HTTP/1.1 clients and close-delimited for HTTP/1.0. HEAD,
// 204, 304 carry no body. Trailers go out only in a chunked body. The head waits for the first body
// write so that head and a small body leave in one writev (the socket is corked until the next tick).

import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { ClientSocket } from '../raw-socket.ts';
import type { Http1Request } from './request.ts';
import type { Reject } from './reject.ts';
import { COALESCE_MAX, joinHead, lastChunk } from './wire.ts';

type Trailers = Record<string, string | string[]>;

/** What a response needs from its connection. */
export interface ResponseSink {
  readonly socket: ClientSocket;
  /** may this exchange leave the connection open (request fully read, limits, drain) */
  keepAliveAllowed(): boolean;
  onResponseEnd(res: Http1Response): void;
}

const statusLines: string[] = [];
function statusLine(status: number): string {
  return (statusLines[status] ??= `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`);
}

let dateLine = '';
let dateUntil = 0;
function dateHeader(): string {
  const now = Date.now();
  if (now >= dateUntil) {
    dateLine = `date: ${new Date(now).toUTCString()}\r\n`;
    dateUntil = now - (now % 1000) + 1000;
  }
  return dateLine;
}

export class Http1Response extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  /** false before writeHead forces `Connection: close` and a close after this response */
  shouldKeepAlive: boolean;
  sendDate = true;
  /** the response is over (ended or its connection died); 'close' has been scheduled */
  finished = false;
  /** a write returned false: 'drain' is owed */
  needDrain = false;
  private head: string | null = null;
  private chunked = false;
  private noBody = false;
  private trailers: Trailers | null = null;

  constructor(
    readonly sink: ResponseSink,
    readonly req: Http1Request,
    keepAlive: boolean,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
  }

  writeHead(status: number, flat: string[]): this {
    if (this.headersSent || this.finished) return this;
    this.headersSent = true;
    this.statusCode = status;
    const req = this.req;
    let keep = this.shouldKeepAlive && this.sink.keepAliveAllowed();
    this.noBody = req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    let head = statusLine(status);
    let hasLength = false;
    let hasDate = false;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i]!;
      if (name === 'content-length') hasLength = true;
      else if (name === 'date') hasDate = true;
      head += name + ': ' + flat[i + 1]! + '\r\n';
    }
    if (!this.noBody && !hasLength) {
      if (req.httpVersion === '1.1') {
        head += 'transfer-encoding: chunked\r\n';
        this.chunked = true;
      } else keep = false; // HTTP/1.0 client, unknown length: the close ends the body
    }
    if (this.sendDate && !hasDate) head += dateHeader();
    if (!keep) head += 'connection: close\r\n';
    else if (req.httpVersion === '1.0') head += 'connection: keep-alive\r\n';
    this.shouldKeepAlive = keep;
    this.head = head + '\r\n';
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished || this.destroyed) return false;
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    const s = this.sink.socket;
    const head = this.head;
    if (
      head !== null &&
      !this.chunked &&
      !this.noBody &&
      chunk.length <= COALESCE_MAX &&
      Buffer.isBuffer(chunk)
    ) {
      // the usual small response: head and body leave as one buffer, one write (no cork, no writev)
      this.head = null;
      const buf = joinHead(head, chunk);
      const ok = s.write(buf);
      if (!ok) this.needDrain = true;
      return ok;
    }
    if (head !== null) {
      s.cork();
      process.nextTick(uncork, s);
      s.write(head, 'latin1');
      this.head = null;
    }
    if (this.noBody || chunk.length === 0) return !s.writableNeedDrain;
    let ok: boolean;
    if (this.chunked) {
      s.cork();
      s.write(Buffer.byteLength(chunk).toString(16) + '\r\n', 'latin1');
      s.write(chunk);
      ok = s.write('\r\n', 'latin1');
      s.uncork();
    } else ok = s.write(chunk);
    if (!ok) this.needDrain = true;
    return ok;
  }

  addTrailers(t: Trailers): void {
    this.trailers = t;
  }

  end(chunk?: Buffer | string): this {
    if (this.finished || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, []);
    const s = this.sink.socket;
    s.cork();
    if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    else if (this.head !== null) {
      s.write(this.head, 'latin1');
      this.head = null;
    }
    if (this.chunked) s.write(lastChunk(this.trailers), 'latin1');
    s.uncork();
    this.writableEnded = true;
    this.finished = true;
    this.sink.onResponseEnd(this);
    process.nextTick(emitClose, this);
    return this;
  }

  /** Cut the exchange: the client sees a broken response (or none). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.sink.socket.destroy();
  }

  /** The engine answers in place of the proxy (body timeout, body framing error). */
  abortWith(r: Reject): void {
    if (this.finished) return;
    if (this.headersSent) return this.destroy();
    this.headersSent = true;
    this.statusCode = r.status;
    this.shouldKeepAlive = false;
    this.sink.socket.write(r.bytes);
    this.finished = true;
    this.sink.onResponseEnd(this);
    process.nextTick(emitClose, this);
  }

  /** The connection is gone. */
  onConnectionClosed(): void {
    this.destroyed = true;
    if (this.finished) return;
    this.finished = true;
    process.nextTick(emitClose, this);
  }
}

function uncork(s: ClientSocket): void {
  s.uncork();
}

function emitClose(res: Http1Response): void {
  res.emit('close');
}
