// The "handle-floor" reference peer: net-floor (bench/net-floor-proxy.ts) on raw libuv TCP handles,
// the way Bulkhead's plaintext path runs (src/dataplane/raw-socket.ts): reads from the handle's
// onread, writes with writeBuffer, no net.Socket or stream machinery on either side. Same limits as
// net-floor (no routing, logs, metrics, timeouts, validation; Content-Length framing only). It is
// the fastest Node proxy we could build, so the benchmark shows what Bulkhead's features cost on
// top of the cheapest I/O Node offers.
// Usage: node --import tsx bench/handle-floor-proxy.ts <listenPort> <backendPort>
import net from 'node:net';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sw: any = (process as any).binding('stream_wrap');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const tw: any = (process as any).binding('tcp_wrap');
const state: Int32Array = sw.streamBaseState;
const kNread: number = sw.kReadBytesOrError;
const kAsync: number = sw.kLastWriteWasAsync;
const { WriteWrap } = sw;
const { TCP, TCPConnectWrap, constants: tcpConst } = tw;

const [portArg, backendArg] = process.argv.slice(2);
const BACKEND = Number(backendArg);
const CRLF2 = Buffer.from('\r\n\r\n');
const rbufShared = Buffer.allocUnsafe(65536);

function contentLength(head: Buffer): number {
  const s = head.toString('latin1').toLowerCase();
  const i = s.indexOf('\r\ncontent-length:');
  if (i === -1) return 0;
  return parseInt(s.slice(i + 17, s.indexOf('\r\n', i + 17)), 10) || 0;
}

function noop(): void {}
function write(handle: any, buf: Buffer): void {
  const req = new WriteWrap();
  req.handle = handle;
  req.oncomplete = noop;
  req.async = false;
  const err = handle.writeBuffer(req, buf);
  if (err !== 0) {
    handle.close();
    return;
  }
  if (state[kAsync]) req.buffer = buf; // keep alive until complete
}

interface Up {
  h: any;
  onData: ((b: Buffer) => void) | null;
}
const idle: Up[] = [];

function connectUp(cb: (u: Up) => void): void {
  const h = new TCP(tcpConst.SOCKET);
  const u: Up = { h, onData: null };
  h.onread = function (): void {
    const n = state[kNread];
    if (n <= 0) {
      if (n < 0) h.close();
      return;
    }
    u.onData?.(Buffer.from(rbufShared.subarray(0, n)));
  };
  h.useUserBuffer(rbufShared);
  const req = new TCPConnectWrap();
  req.oncomplete = (status: number): void => {
    if (status !== 0) {
      console.error('connect', status);
      return;
    }
    h.setNoDelay(true);
    h.readStart();
    cb(u);
  };
  req.address = '127.0.0.1';
  req.port = BACKEND;
  h.connect(req, '127.0.0.1', BACKEND);
}

class Conn {
  buf: Buffer = Buffer.alloc(0);
  busy = false;
  constructor(readonly h: any) {
    h.setNoDelay(true);
    h.onread = (ab: ArrayBuffer): void => {
      const n = state[kNread];
      if (n <= 0) {
        if (n < 0) h.close();
        return;
      }
      this.onData(Buffer.from(ab, state[sw.kArrayBufferOffset], n));
    };
    h.readStart();
  }
  onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    this.next();
  }
  next(): void {
    if (this.busy) return;
    const end = this.buf.indexOf(CRLF2);
    if (end === -1) return;
    const head = this.buf.subarray(0, end);
    const total = end + 4 + contentLength(head);
    if (this.buf.length < total) return;
    const req = Buffer.concat([
      head,
      Buffer.from(`\r\nx-forwarded-for: 127.0.0.1\r\n\r\n`),
      this.buf.subarray(end + 4, total),
    ]);
    this.buf = this.buf.subarray(total);
    this.busy = true;
    const go = (up: Up): void => {
      let rbuf: Buffer = Buffer.alloc(0);
      let need = -1;
      up.onData = (chunk: Buffer): void => {
        if (need === -1) {
          rbuf = rbuf.length === 0 ? chunk : Buffer.concat([rbuf, chunk]);
          const e = rbuf.indexOf(CRLF2);
          if (e === -1) return;
          need = e + 4 + contentLength(rbuf.subarray(0, e)) - rbuf.length;
          write(this.h, rbuf);
        } else {
          need -= chunk.length;
          write(this.h, chunk);
        }
        if (need <= 0) {
          up.onData = null;
          idle.push(up);
          this.busy = false;
          this.next();
        }
      };
      write(up.h, req);
    };
    const u = idle.pop();
    if (u) go(u);
    else connectUp(go);
  }
}

const server = net.createServer();
server.listen(Number(portArg), '127.0.0.1', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (server as any)._handle.onconnection = (err: number, h: any): void => {
    if (!err) new Conn(h);
  };
  console.log(`ready port=${portArg}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
