// The module-level listeners of the HTTP/1.1 engine: llhttp's numbered callbacks and the socket's
// events, each a plain function that finds its connection through the `kConn` slot on the parser
// or the socket (the undici pattern: no closure per connection or per request).

import type { ClientSocket } from '../raw-socket.ts';
import {
  kOnBody,
  kOnHeaders,
  kOnHeadersComplete,
  kOnMessageComplete,
  type NodeHttpParser,
} from './parser.ts';
import type { Http1Connection } from './connection.ts';

export const kConn = Symbol('bulkhead.http1.connection');

/** The connection's listeners on its socket. */
export function attachSocket(socket: ClientSocket, conn: Http1Connection): void {
  (socket as unknown as Record<symbol, unknown>)[kConn] = conn;
  // a client may half-close after its last request and still read the answer (node:http allows
  // the same); the engine closes once that answer is out
  socket.allowHalfOpen = true;
  socket.on('data', onSocketData);
  socket.on('end', onSocketEnd);
  socket.on('drain', onSocketDrain);
  socket.on('close', onSocketClose);
  socket.on('error', ignoreError);
}

/** The socket leaves the engine (upgrade hand-off, close). */
export function detachSocket(s: ClientSocket): void {
  s.removeListener('data', onSocketData);
  s.removeListener('end', onSocketEnd);
  s.removeListener('drain', onSocketDrain);
  s.removeListener('close', onSocketClose);
  s.removeListener('error', ignoreError);
  s.allowHalfOpen = false;
}

function connOf(x: object): Http1Connection {
  return (x as Record<symbol, Http1Connection>)[kConn]!;
}
export function installCallbacks(p: NodeHttpParser): void {
  p[kOnHeaders] = onHeaders;
  p[kOnHeadersComplete] = onHeadersComplete;
  p[kOnBody] = onBody;
  p[kOnMessageComplete] = onMessageComplete;
}
function onHeaders(this: NodeHttpParser, raw: string[], url: string): void {
  connOf(this).onHeaderLines(raw, url);
}
function onHeadersComplete(
  this: NodeHttpParser,
  major: number,
  minor: number,
  raw: string[] | undefined,
  method: number,
  url: string | undefined,
  _status: unknown,
  _statusText: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  return connOf(this).onHead(major, minor, raw, method, url, upgrade, keepAlive);
}
function onBody(this: NodeHttpParser, b: Buffer): void {
  connOf(this).onBody(b);
}
function onMessageComplete(this: NodeHttpParser): void {
  connOf(this).onMessageComplete();
}
function onSocketData(this: ClientSocket, chunk: Buffer): void {
  connOf(this).onData(chunk);
}
function onSocketEnd(this: ClientSocket): void {
  connOf(this).onPeerEnd();
}
export function onSocketFlushed(this: ClientSocket): void {
  connOf(this)?.onFlushed();
}
function onSocketDrain(this: ClientSocket): void {
  const res = connOf(this).res;
  if (res !== null && res.needDrain) {
    res.needDrain = false;
    res.emit('drain');
  }
}
function onSocketClose(this: ClientSocket): void {
  connOf(this).onClose();
}
function ignoreError(): void {
  // 'close' follows every socket error; onClose cleans up
}
