// One HTTP/1.1 request as the engine hands it to the proxy: method, target, headers in node:http's
// shape (lower-case names; repeated fields joined with ", ", cookie with "; ", set-cookie as an
// array) and, only when the request has a body, a Readable that the parser feeds. The body applies
// backpressure: when its buffer is full the connection stops reading the socket until the
// consumer (the upstream attempt, a pipe) reads again.

import type { ClientSocket } from '../raw-socket.ts';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

/** What a request body needs from its connection. */
export interface BodySource {
  onBodyRead(): void;
}

export class Http1Body extends Readable {
  constructor(readonly source: BodySource) {
    super();
    // a consumer may destroy the body with an error (a pipe on an upstream failure); the connection
    // learns of the failure through its response, so an error event must never go unheard
    this.on('error', ignoreBodyError);
  }
  override _read(): void {
    this.source.onBodyRead();
  }
}

export class Http1Request {
  /** present only when the request has a body (Content-Length > 0 or chunked) */
  body: Http1Body | null = null;
  /** chunked request trailers, once the body has ended */
  trailers: IncomingHttpHeaders | null = null;
  /** `Expect: 100-continue` still owed an interim answer */
  expectContinue = false;
  /** a WebSocket upgrade: handed to the upgrade handler with the socket, never answered here */
  upgrade = false;

  constructor(
    readonly method: string,
    /** origin-form target (an absolute-form target is reduced to its path and query) */
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    /** '1.1' or '1.0' */
    readonly httpVersion: string,
    readonly socket: ClientSocket,
    /** the client allows the connection to stay open (version and Connection header) */
    readonly keepAlive: boolean,
    /** Content-Length, or -1 when absent or chunked */
    readonly contentLength: number,
    /** Content-Length > 0 or Transfer-Encoding: the connection creates `body` */
    readonly hasBody: boolean,
  ) {}
}

/** Trailers of a chunked request body, joined like its headers. */
export function trailersOf(raw: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === '__proto__') continue;
    const prev = out[name];
    out[name] = prev === undefined ? raw[i + 1]! : prev + ', ' + raw[i + 1]!;
  }
  return out;
}

function ignoreBodyError(): void {
  // see Http1Body
}
