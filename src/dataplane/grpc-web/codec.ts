// gRPC-Web wire format, independent of the proxy: which requests are gRPC-Web, the content types
// on each side, streaming base64 for the -text mode, and the trailer frame that carries grpc-status
// at the end of the body (flag 0x80), since HTTP/1.1 and browsers' fetch cannot read trailers.
// Message frames themselves are the same bytes as gRPC's, so binary mode passes them through.

/** 0 not gRPC-Web, 1 binary (application/grpc-web[+proto]), 2 text (application/grpc-web-text[+proto]) */
export const GRPC_WEB_NONE = 0;
export const GRPC_WEB_BINARY = 1;
export const GRPC_WEB_TEXT = 2;

export function grpcWebMode(contentType: string | string[] | undefined): number {
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc-web'))
    return GRPC_WEB_NONE;
  const rest = contentType.slice(20); // after 'application/grpc-web'
  if (rest === '' || rest.startsWith('+') || rest.startsWith(';')) return GRPC_WEB_BINARY;
  if (rest.startsWith('-text') && (rest.length === 5 || rest[5] === '+' || rest[5] === ';'))
    return GRPC_WEB_TEXT;
  return GRPC_WEB_NONE;
}

/** `application/grpc-web+json` → `application/grpc+json`; the message codec suffix is kept. */
export function upstreamContentType(contentType: string, mode: number): string {
  const rest = contentType.slice(mode === GRPC_WEB_TEXT ? 25 : 20);
  return 'application/grpc' + rest;
}

/** The response's content type for the client, in the request's mode and codec. */
export function downstreamContentType(upstream: string | undefined, mode: number): string {
  const suffix =
    typeof upstream === 'string' && upstream.startsWith('application/grpc') ? upstream.slice(16) : '';
  return (
    (mode === GRPC_WEB_TEXT ? 'application/grpc-web-text' : 'application/grpc-web') + (suffix || '+proto')
  );
}

/**
 * Decodes a base64 body that arrives in arbitrary chunks. Clients may send several padded base64
 * segments one after the other (one per message), so each 4-character group is decoded on its own
 * terms; at most 3 characters wait for the next chunk. Whitespace is ignored.
 */
export class Base64StreamDecoder {
  private pending = '';

  /** bytes decoded so far; throws on characters outside the base64 alphabet */
  push(chunk: Buffer): Buffer {
    let text = this.pending + chunk.toString('latin1');
    if (/[^A-Za-z0-9+/=\s]/.test(text)) throw new Error('invalid base64 in grpc-web-text body');
    if (/\s/.test(text)) text = text.replace(/\s+/g, '');
    const usable = text.length - (text.length % 4);
    this.pending = text.slice(usable);
    if (usable === 0) return EMPTY;
    const body = text.slice(0, usable);
    if (body.indexOf('=') === -1 || body.indexOf('=') >= usable - 2) return Buffer.from(body, 'base64');
    // padding inside: decode group by group up to each padded group
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < usable; i += 4) {
      if (body.charCodeAt(i + 3) === 61 /* = */) {
        parts.push(Buffer.from(body.slice(start, i + 4), 'base64'));
        start = i + 4;
      }
    }
    if (start < usable) parts.push(Buffer.from(body.slice(start), 'base64'));
    return Buffer.concat(parts);
  }

  /** true when the body ended on a group boundary */
  get complete(): boolean {
    return this.pending.length === 0;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Trailers as the body's last frame: flag 0x80, 4-byte length, then HTTP/1-style header lines
 * (`name:value\r\n`, lower-case names). Pseudo-headers and hop-by-hop names are left out.
 */
export function trailerFrame(trailers: Record<string, string | string[] | undefined>): Buffer {
  let text = '';
  for (const name in trailers) {
    const v = trailers[name];
    if (v === undefined || name.charCodeAt(0) === 58 /* : */) continue;
    const lower = name.toLowerCase();
    if (Array.isArray(v)) for (const x of v) text += `${lower}:${x}\r\n`;
    else text += `${lower}:${v}\r\n`;
  }
  const body = Buffer.from(text, 'latin1');
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame[0] = 0x80;
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}
