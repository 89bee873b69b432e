// The "net-floor" reference peer: the fastest HTTP/1.1 proxy we could write in Node without any
// feature — plain `net` sockets both ways, the request head found by scanning for CRLFCRLF, Host
// and X-Forwarded-For appended, requests with Content-Length bodies and responses with
// Content-Length only (what the benchmark sends and nginx answers), one pooled upstream socket per
// request in flight, no routing, logs, metrics, timeouts or validation. Not a proxy anyone should
// run: it marks how far below node:http a Node proxy's cost per request can go, so the benchmark
// table shows what each of Bulkhead's features costs on top.
// Usage: node --import tsx bench/net-floor-proxy.ts <listenPort> <backendPort>

import net from 'node:net';

const [portArg, backendArg] = process.argv.slice(2);
if (!portArg || !backendArg) {
  console.error('usage: net-floor-proxy.ts <listenPort> <backendPort>');
  process.exit(2);
}
const BACKEND = Number(backendArg);
const idle: net.Socket[] = [];
const CRLF2 = Buffer.from('\r\n\r\n');

/** Content-Length of a head (0 when absent). */
function contentLength(head: Buffer): number {
  const s = head.toString('latin1').toLowerCase();
  const i = s.indexOf('\r\ncontent-length:');
  if (i === -1) return 0;
  return parseInt(s.slice(i + 17, s.indexOf('\r\n', i + 17)), 10) || 0;
}

class Conn {
  buf: Buffer = Buffer.alloc(0);
  busy = false;
  constructor(readonly client: net.Socket) {
    client.setNoDelay(true);
    client.on('data', (d: Buffer) => this.onData(d));
    client.on('error', () => client.destroy());
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
      Buffer.from(`\r\nx-forwarded-for: ${this.client.remoteAddress}\r\n\r\n`),
      this.buf.subarray(end + 4, total),
    ]);
    this.buf = this.buf.subarray(total);
    this.busy = true;
    const up = idle.pop() ?? net.connect({ port: BACKEND, host: '127.0.0.1', noDelay: true });
    let rbuf: Buffer = Buffer.alloc(0);
    let need = -1;
    const onUp = (chunk: Buffer): void => {
      if (need === -1) {
        rbuf = rbuf.length === 0 ? chunk : Buffer.concat([rbuf, chunk]);
        const e = rbuf.indexOf(CRLF2);
        if (e === -1) return;
        need = e + 4 + contentLength(rbuf.subarray(0, e)) - rbuf.length;
        this.client.write(rbuf);
      } else {
        need -= chunk.length;
        this.client.write(chunk);
      }
      if (need <= 0) {
        up.off('data', onUp);
        idle.push(up);
        this.busy = false;
        this.next();
      }
    };
    up.on('data', onUp);
    up.once('error', () => this.client.destroy());
    up.write(req);
  }
}

const server = net.createServer((s) => new Conn(s));
server.listen(Number(portArg), '127.0.0.1', () => console.log(`ready port=${portArg}`));
const shutdown = (): void => {
  server.close();
  for (const s of idle) s.destroy();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
