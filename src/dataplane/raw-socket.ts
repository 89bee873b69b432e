// A plaintext TCP connection driven on its libuv handle directly: the `tcp_wrap` handle that a
// net.Socket wraps, without net.Socket's stream machinery. Reads arrive through the handle's
// `onread` and go straight to the 'data' listener (no Readable buffer, no push); writes go to the
// handle's writeBuffer / writeLatin1String with one reusable WriteWrap, so a write that the kernel
// takes at once (almost all of them) costs a syscall and nothing else: no WriteWrap per write, no
// nextTick, no Writable state. Measured on the benchmark's proxy path (docs/BENCHMARKS.md,
// handle-floor against net-floor) this is about a fifth of a Node proxy's CPU per request.
//
// It offers the slice of net.Socket that the HTTP/1.1 engine uses (write, cork, end, destroy,
// pause, resume, writableLength, writableNeedDrain, remoteAddress, the events 'data', 'end',
// 'drain', 'finish', 'close', 'error'), and `toNetSocket()` turns it into a real net.Socket for
// what needs one (WebSocket tunnels, the h2c server) without losing a byte.
//
// The handle API is Node's internal contract between net.js and its C++ stream classes (stable
// since Node 12, reached through `process.binding('stream_wrap')`). `rawSocketsAvailable` checks its
// shape once; when it does not match, the listener keeps plain net.Socket (listener.ts).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';

/** the C++ side of a connected TCP handle (node's tcp_wrap / stream_wrap) */
export interface TcpHandle {
  onread: (ab?: ArrayBuffer) => void;
  readStart(): number;
  readStop(): number;
  writeBuffer(req: object, buf: Uint8Array): number;
  writeLatin1String(req: object, s: string): number;
  writeUtf8String(req: object, s: string): number;
  shutdown(req: object): number;
  close(cb: () => void): void;
  getpeername(out: Record<string, unknown>): number;
  setNoDelay(on: boolean): number;
  useUserBuffer(buf: Uint8Array): void;
  [k: symbol]: unknown;
}
interface WriteReq {
  oncomplete: (this: WriteReq, status: number) => void;
  handle: TcpHandle | null;
  owner: RawSocket | null;
  bytes: number;
  buffer: unknown;
}
interface ShutdownReq {
  oncomplete: (this: ShutdownReq, status: number) => void;
  handle: TcpHandle | null;
  owner: RawSocket | null;
}
interface StreamWrap {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
  kBytesWritten: number;
}

let sw: StreamWrap | null = null;
try {
  sw = (process as unknown as { binding(n: string): StreamWrap }).binding('stream_wrap');
  if (typeof sw.WriteWrap !== 'function' || !(sw.streamBaseState instanceof Int32Array)) sw = null;
} catch {
  sw = null;
}
const UV_EOF = -4095;
/** write() answers false (and 'drain' follows) once this much waits in the kernel's stead */
const HIGH_WATER = 16 * 1024;
const kRaw = Symbol('bulkhead.rawSocket');
/**
 * Every RawSocket's reads land in this one buffer (the handle's user buffer, as net.Socket's
 * `onread.buffer` option does), and 'data' hands out a view of it that is valid only until the
 * listener returns: whoever keeps bytes past that copies them. Without it, libuv's default reader
 * allocates 64 KB, shrinks it, and wraps it in an ArrayBuffer per read, and sweeping those was half
 * of each scavenge's pause under load.
 */
const READ_BUFFER = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * Take a listening net.Server's accepts: each new connection becomes a RawSocket given to
 * `onSocket` (with `this` = the server handle, which carries whatever the caller stored on it).
 * In a node:cluster worker the server's handle is cluster's stand-in, whose `onconnection` gets the
 * connections the primary hands over: the same hook. null, and nothing changed, when the server is
 * not listening or this Node's handle API differs; `BULKHEAD_RAW_SOCKETS=0` turns it off.
 */
export function acceptRaw(
  server: net.Server,
  onSocket: (this: TcpHandle, s: RawSocket) => void,
): TcpHandle | null {
  const h = (server as unknown as { _handle?: TcpHandle | null })._handle;
  if (process.env.BULKHEAD_RAW_SOCKETS === '0' || !rawSocketsAvailable() || h == null) return null;
  if (typeof (h as unknown as { onconnection?: unknown }).onconnection !== 'function') return null;
  h[kOnSocket] = onSocket;
  (h as unknown as { onconnection: unknown }).onconnection = onRawConnection;
  return h;
}
const kOnSocket = Symbol('bulkhead.onRawSocket');

function onRawConnection(this: TcpHandle, err: number, client: TcpHandle | undefined): void {
  // an accept error (EMFILE, ...) is libuv's to retry; nothing was taken from the queue
  if (err !== 0 || client === undefined) return;
  (this[kOnSocket] as (this: TcpHandle, s: RawSocket) => void).call(this, new RawSocket(client));
}

/** Whether this Node has the handle API this file drives (TCP handles' methods, write requests). */
export function rawSocketsAvailable(): boolean {
  return tcpApi;
}
let tcpApi = false;
let sharedReads = false;
try {
  const t = (
    process as unknown as { binding(n: string): { TCP: { prototype: Record<string, unknown> } } }
  ).binding('tcp_wrap').TCP.prototype;
  tcpApi =
    sw !== null &&
    [
      'readStart',
      'readStop',
      'writeBuffer',
      'writeLatin1String',
      'shutdown',
      'close',
      'getpeername',
      'setNoDelay',
    ].every((m) => typeof t[m] === 'function');
  sharedReads = tcpApi && typeof t.useUserBuffer === 'function';
} catch {
  tcpApi = false;
}

export class RawSocket extends EventEmitter {
  handle: TcpHandle | null;
  destroyed = false;
  readable = true;
  allowHalfOpen = false;
  /** set once the handle went to a net.Socket (toNetSocket) */
  detachedTo: net.Socket | null = null;
  /** bytes handed to the kernel asynchronously and not yet confirmed */
  writableLength = 0;
  writableNeedDrain = false;
  writableEnded = false;
  private req: WriteReq | null = null;
  /** writes held for the end of this event-loop turn (see Outbox below) */
  private deferred: (Buffer | string)[] | null = null;
  private deferredBytes = 0;
  private corks = 0;
  private corked: (Buffer | string)[] | null = null;
  private reading = false;
  private finished = false;
  private peer: Record<string, unknown> | null = null;

  constructor(handle: TcpHandle) {
    super();
    this.handle = handle;
    handle[kRaw] = this;
    handle.onread = onRawRead;
    if (sharedReads) handle.useUserBuffer(READ_BUFFER);
    handle.setNoDelay(true);
  }

  get remoteAddress(): string | undefined {
    return this.peerInfo().address as string | undefined;
  }
  get remotePort(): number | undefined {
    return this.peerInfo().port as number | undefined;
  }
  get remoteFamily(): string | undefined {
    return this.peerInfo().family as string | undefined;
  }
  private peerInfo(): Record<string, unknown> {
    if (this.peer === null) {
      const out: Record<string, unknown> = {};
      if (this.handle !== null && this.handle.getpeername(out) === 0) this.peer = out;
      else return out;
    }
    return this.peer;
  }

  resume(): this {
    if (!this.reading && this.handle !== null && this.readable && !this.destroyed) {
      this.reading = true;
      const err = this.handle.readStart();
      if (err !== 0) this.destroy(uvError(err, 'read'));
    }
    return this;
  }

  pause(): this {
    if (this.reading && this.handle !== null) {
      this.reading = false;
      this.handle.readStop();
    }
    return this;
  }

  cork(): void {
    this.corks++;
  }

  uncork(): void {
    if (this.corks === 0 || --this.corks > 0) return;
    const c = this.corked;
    if (c === null) return;
    this.corked = null;
    if (c.length === 1) this.send(c[0]!);
    else this.send(Buffer.concat(c.map(toBuffer)));
  }

  /** Strings are written as latin1 (the engine writes heads and chunk framing, all ASCII). */
  write(data: Buffer | string, _enc?: BufferEncoding): boolean {
    if (this.destroyed || this.writableEnded || this.handle === null) return false;
    if (this.corks > 0) {
      (this.corked ??= []).push(data);
      return this.writableLength < HIGH_WATER;
    }
    return this.send(data);
  }

  private send(data: Buffer | string): boolean {
    if (this.handle === null || data.length === 0) return !this.writableNeedDrain;
    if (!batchWrites) return this.sendNow(data);
    if (this.deferred === null) {
      this.deferred = [data];
      rawOut.push(this);
      if (!flushScheduled) scheduleFlush();
    } else this.deferred.push(data);
    this.deferredBytes += data.length;
    this.writableLength += data.length;
    if (this.writableLength >= HIGH_WATER) this.writableNeedDrain = true;
    return !this.writableNeedDrain;
  }

  /** @internal the held writes go to the kernel now, as one write when small */
  flushDeferred(): void {
    const d = this.deferred;
    if (d === null) return;
    this.deferred = null;
    this.writableLength -= this.deferredBytes;
    const total = this.deferredBytes;
    this.deferredBytes = 0;
    if (this.handle === null) return;
    if (d.length === 1) this.sendNow(d[0]!);
    else if (total <= 64 * 1024) this.sendNow(Buffer.concat(d.map(toBuffer), total));
    else for (let i = 0; i < d.length && this.handle !== null; i++) this.sendNow(d[i]!);
    if (this.writableNeedDrain && this.writableLength < HIGH_WATER && this.handle !== null) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }

  private sendNow(data: Buffer | string): boolean {
    const h = this.handle;
    if (h === null) return false;
    const req = (this.req ??= newWriteReq(onWriteDone, this));
    const r = writeOnHandle(h, req, data);
    if (r < 0) {
      this.destroy(uvError(r, 'write'));
      return false;
    }
    if (r === ASYNC) {
      // the request is in use until libuv completes it
      this.writableLength += req.bytes;
      this.req = null;
      if (this.writableLength >= HIGH_WATER) this.writableNeedDrain = true;
    }
    return !this.writableNeedDrain;
  }

  /** @internal from the write request's completion */
  written(bytes: number, status: number): void {
    this.writableLength -= bytes;
    if (this.handle === null) return;
    if (status < 0) return void this.destroy(uvError(status, 'write'));
    if (this.writableNeedDrain && this.writableLength < HIGH_WATER) {
      this.writableNeedDrain = false;
      this.emit('drain');
    }
  }

  /** FIN after what was written (libuv's shutdown waits for queued writes); 'finish' when done. */
  end(data?: Buffer | string): this {
    if (data !== undefined) this.write(data);
    if (this.writableEnded || this.destroyed || this.handle === null) return this;
    if (this.corks > 0) {
      this.corks = 1;
      this.uncork();
    }
    this.flushDeferred();
    if (this.handle === null) return this;
    this.writableEnded = true;
    const req = new sw!.ShutdownWrap();
    req.oncomplete = onShutdownDone;
    req.handle = this.handle;
    req.owner = this;
    const err = this.handle.shutdown(req);
    if (err !== 0) this.destroy();
    return this;
  }

  /** @internal */
  shutdownDone(): void {
    if (this.handle === null || this.destroyed) return;
    this.finished = true;
    this.emit('finish');
    if (!this.readable) this.destroy();
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.readable = false;
    this.writableEnded = true;
    this.deferred = null;
    const h = this.handle;
    this.handle = null;
    if (h === null) return this;
    h.onread = noRead;
    h.readStop();
    h.close(() => {
      if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err);
      this.emit('close', err !== undefined);
    });
    return this;
  }

  /** @internal a read from the handle */
  onRead(ab: ArrayBuffer | undefined): void {
    const n = sw!.streamBaseState[sw!.kReadBytesOrError]!;
    if (n > 0) {
      this.emit(
        'data',
        ab === undefined
          ? READ_BUFFER.subarray(0, n)
          : Buffer.from(ab, sw!.streamBaseState[sw!.kArrayBufferOffset]!, n),
      );
      return;
    }
    if (n === 0) return;
    if (n !== UV_EOF) return void this.destroy(uvError(n, 'read'));
    this.readable = false;
    this.pause();
    this.emit('end');
    if (this.destroyed) return;
    if (this.finished) this.destroy();
    else if (!this.allowHalfOpen) this.end();
  }

  /**
   * The connection continues as a net.Socket (WebSocket tunnel, h2c): reading stops here, writes
   * already queued stay in libuv's order, and this object's 'close' follows the new socket's.
   */
  toNetSocket(): net.Socket {
    if (this.corks > 0) {
      this.corks = 1;
      this.uncork();
    }
    this.flushDeferred();
    const h = this.handle!;
    this.pause();
    h.onread = noRead;
    h[kRaw] = undefined;
    this.handle = null;
    // the handle keeps reading into the shared buffer: the net.Socket copies each read into its
    // Readable, as its own reader would have allocated it
    const s = new net.Socket({
      handle: h,
      readable: true,
      writable: true,
      ...(sharedReads ? { onread: { buffer: READ_BUFFER, callback: pushCopy } } : {}),
    } as net.SocketConstructorOpts);
    this.detachedTo = s;
    s.once('close', () => {
      this.destroyed = true;
      this.emit('close', false);
    });
    return s;
  }
}

function pushCopy(this: net.Socket, n: number, buf: Buffer): boolean {
  return this.push(Buffer.from(buf.subarray(0, n)));
}

/** the handle's onread must stay a function (a C++ accessor checks it) */
function noRead(): void {}

function onRawRead(this: TcpHandle, ab?: ArrayBuffer): void {
  (this[kRaw] as RawSocket | undefined)?.onRead(ab);
}

/** writeOnHandle's answer when libuv keeps the rest of the bytes (and the request) until done */
const ASYNC = 1;

function newWriteReq(done: (this: WriteReq, status: number) => void, owner: RawSocket | null): WriteReq {
  const req = new sw!.WriteWrap();
  req.oncomplete = done;
  req.handle = null;
  req.owner = owner;
  req.bytes = 0;
  req.buffer = null;
  return req;
}

/**
 * `data` (strings as latin1) on `h` with `req`: a libuv error (< 0), 0 when the kernel took it all
 * (the request is untouched and can be reused), or ASYNC: the request now holds the bytes counted
 * in `req.bytes` and the data itself until its `oncomplete`.
 */
function writeOnHandle(h: TcpHandle, req: WriteReq, data: Buffer | string): number {
  req.handle = h;
  const err = typeof data === 'string' ? h.writeLatin1String(req, data) : h.writeBuffer(req, data);
  if (err !== 0) return err;
  const st = sw!.streamBaseState;
  if (st[sw!.kLastWriteWasAsync] === 0) {
    req.handle = null;
    return 0;
  }
  req.bytes = st[sw!.kBytesWritten]!;
  req.buffer = data;
  return ASYNC;
}

function onWriteDone(this: WriteReq, status: number): void {
  const s = this.owner;
  const bytes = this.bytes;
  this.owner = null;
  this.handle = null;
  this.buffer = null;
  s?.written(bytes, status);
}

function onShutdownDone(this: ShutdownReq): void {
  const s = this.owner;
  this.owner = null;
  this.handle = null;
  s?.shutdownDone();
}

function toBuffer(d: Buffer | string): Buffer {
  return typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
}

function uvError(code: number, syscall: string): Error {
  const name = getSystemErrorName(code);
  return Object.assign(new Error(`${syscall} ${name}`), { code: name, errno: code, syscall });
}

let spare: WriteReq | null = null;

/**
 * One whole write on a plaintext net.Socket with nothing queued, straight to its handle (no
 * Writable bookkeeping, WriteWrap or nextTick when the kernel takes it at once). false when the
 * socket is not in that state (connecting, TLS, bytes queued, no handle API): the caller uses
 * `socket.write`. The socket's inactivity timer is refreshed as net.Socket's own write does.
 */
export function writeDirect(socket: net.Socket, data: Buffer | string): boolean {
  const h = (socket as unknown as { _handle?: TcpHandle | null })._handle;
  // a TLS socket's handle is a TLSWrap: its bytes must go through the TLS layer
  if (!tcpApi || h == null || socket.connecting || socket.writableLength !== 0 || socket.destroyed)
    return false;
  if ((socket as { encrypted?: boolean }).encrypted === true) return false;
  if (batchWrites) {
    netOut.push(socket, data);
    if (!flushScheduled) scheduleFlush();
    return true;
  }
  writeDirectNow(socket, h, data);
  return true;
}

function writeDirectNow(socket: net.Socket, h: TcpHandle, data: Buffer | string): void {
  const req = spare ?? newWriteReq(onDirectDone, null);
  const r = writeOnHandle(h, req, data);
  if (r < 0) {
    // as net.Socket does: the error ends the socket ('error', then 'close')
    socket.destroy(uvError(r, 'write'));
    return;
  }
  // an asynchronous write keeps its request until libuv completes it; a failure shows on the read side
  spare = r === ASYNC ? null : req;
  (socket as unknown as { _unrefTimer(): void })._unrefTimer();
}

function onDirectDone(this: WriteReq): void {
  this.handle = null;
  this.buffer = null;
}

// The outbox: writes made while the loop serves one turn's I/O callbacks are held until that turn's
// check phase (setImmediate) and then made back to back. On loopback and in VMs, most of a small
// write's cost is waking the reader on the other core; writes spread over the turn wake it once per
// write, writes made together wake it once per turn. The wait is the rest of the turn: nothing
// when the loop is idle, and under load it buys throughput, which is what bounds latency there.
// A socket's own order is kept (end(), toNetSocket() and destroy() flush or drop its held writes
// first). BULKHEAD_WRITE_BATCH=0 writes at once.
let batchWrites = process.env.BULKHEAD_WRITE_BATCH !== '0';
/** @internal tests run the engine both ways; writes held already still go at the turn's end */
export function setWriteBatching(on: boolean): void {
  batchWrites = on;
}
let flushScheduled = false;
let rawOut: RawSocket[] = [];
/** pairs: an upstream net.Socket, then the one whole write for it (writeDirect) */
let netOut: (net.Socket | Buffer | string)[] = [];

function scheduleFlush(): void {
  flushScheduled = true;
  setImmediate(flushOutbox);
}

function flushOutbox(): void {
  flushScheduled = false;
  const nets = netOut;
  const raws = rawOut;
  netOut = [];
  rawOut = [];
  for (let i = 0; i < nets.length; i += 2) {
    const socket = nets[i] as net.Socket;
    const h = (socket as unknown as { _handle?: TcpHandle | null })._handle;
    if (h == null || socket.destroyed) continue;
    writeDirectNow(socket, h, nets[i + 1] as Buffer | string);
  }
  for (let i = 0; i < raws.length; i++) raws[i]!.flushDeferred();
}

/** A downstream connection as the HTTP/1.1 engine sees it: raw on the plaintext port, net/tls otherwise. */
export type ClientSocket = net.Socket | RawSocket;
