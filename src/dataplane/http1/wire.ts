// Bytes on the wire shared by both HTTP/1.1 directions (the engine's responses to clients, the relay's
// requests to backends): a head and a small body joined into one buffer so they leave in one
// write(2), and the last chunk of a chunked body with its trailers.

import { isHopByHop } from '../headers.ts';

/** a body up to this size is copied behind its head: one buffer, one write */
export const COALESCE_MAX = 16 * 1024;

/** `head` (latin1) followed by `body`, in one new buffer. */
export function joinHead(head: string, body: Buffer): Buffer {
  const n = Buffer.byteLength(head, 'latin1');
  const buf = Buffer.allocUnsafe(n + body.length);
  buf.write(head, 0, 'latin1');
  body.copy(buf, n);
  return buf;
}

export const LAST_CHUNK = '0\r\n\r\n';

/**
 * The end of a chunked body with trailers. Hop-by-hop names and Content-Length are dropped: they
 * describe a connection or a framing, never content.
 */
export function lastChunk(trailers: Record<string, string | string[] | undefined> | null): string {
  if (trailers === null) return LAST_CHUNK;
  let out = '0\r\n';
  for (const name in trailers) {
    const v = trailers[name];
    if (v === undefined || isHopByHop(name) || name === 'content-length') continue;
    if (Array.isArray(v)) for (const x of v) out += name + ': ' + x + '\r\n';
    else out += name + ': ' + v + '\r\n';
  }
  return out + '\r\n';
}
