// Answers the proxy makes on its own, for both downstream kinds. gRPC requests (content-type
// application/grpc*) never get a plain HTTP error: they get a trailers-only response (`:status 200`,
// grpc-status, grpc-message) that gRPC clients turn into the right status code.

import type { Http1Response } from './http1/response.ts';
import type { ServerHttp2Stream } from 'node:http2';
import type { ProxyError } from './errors.ts';

export function isGrpc(contentType: string | string[] | undefined): boolean {
  return typeof contentType === 'string' && contentType.startsWith('application/grpc');
}

function grpcMessage(err: ProxyError): string {
  // grpc-message is percent-encoded; our texts are ASCII without '%', so only spaces need care
  return encodeURIComponent(err.body.toString('latin1').trim());
}

export function answerH1(
  res: Http1Response,
  err: ProxyError,
  grpc: boolean,
  requestId: string | null,
  extra: string[] | null = null,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const h: string[] = grpc
    ? [
        'content-type',
        'application/grpc',
        'grpc-status',
        String(err.grpcStatus),
        'grpc-message',
        grpcMessage(err),
        'content-length',
        '0',
      ]
    : ['content-type', 'text/plain; charset=utf-8', 'content-length', String(err.body.length)];
  h.push('x-bulkhead-reason', err.reason);
  if (err.retryAfter) h.push('retry-after', '1');
  if (requestId !== null) h.push('x-request-id', requestId);
  if (extra !== null) for (let i = 0; i < extra.length; i++) h.push(extra[i]!);
  res.writeHead(grpc ? 200 : err.status, h);
  if (grpc) res.end();
  else res.end(err.body);
}

export function answerH2(
  stream: ServerHttp2Stream,
  err: ProxyError,
  grpc: boolean,
  requestId: string | null,
  extra: string[] | null = null,
): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(2 /* NGHTTP2_INTERNAL_ERROR */);
    return;
  }
  const h: Record<string, string | string[]> = grpc
    ? {
        ':status': '200',
        'content-type': 'application/grpc',
        'grpc-status': String(err.grpcStatus),
        'grpc-message': grpcMessage(err),
      }
    : {
        ':status': String(err.status),
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(err.body.length),
      };
  h['x-bulkhead-reason'] = err.reason;
  if (err.retryAfter) h['retry-after'] = '1';
  if (requestId !== null) h['x-request-id'] = requestId;
  if (extra !== null) addFlat(h, extra);
  try {
    stream.respond(h, { endStream: grpc });
    if (!grpc) stream.end(err.body);
  } catch {
    // the stream closed between the check and respond(): nothing left to answer
  }
}

/** Any answer of the proxy's own making: status, flat header pairs, optional body. */
export function answerRaw(
  res: Http1Response | null,
  stream: ServerHttp2Stream | null,
  status: number,
  flat: string[],
  body: Buffer | null,
): void {
  const len = body === null ? 0 : body.length;
  if (res !== null) {
    if (res.headersSent || res.destroyed) return void res.destroy();
    flat.push('content-length', String(len));
    res.writeHead(status, flat);
    if (body === null) res.end();
    else res.end(body);
    return;
  }
  const s = stream!;
  if (s.destroyed || s.closed || s.headersSent) return;
  const h: Record<string, string | string[]> = { ':status': String(status), 'content-length': String(len) };
  addFlat(h, flat);
  try {
    s.respond(h, { endStream: body === null || len === 0 });
    if (body !== null && len > 0) s.end(body);
  } catch {
    // the stream closed between the check and respond()
  }
}

/** flat pairs into an h2 header object; repeated names become arrays (set-cookie) */
function addFlat(h: Record<string, string | string[]>, flat: string[]): void {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!.toLowerCase();
    const prev = h[k];
    if (prev === undefined) h[k] = flat[i + 1]!;
    else h[k] = Array.isArray(prev) ? [...prev, flat[i + 1]!] : [prev, flat[i + 1]!];
  }
}

/** grpc-status trailers for a failure after response headers were sent (h2 downstream). */
export function grpcFailureTrailers(err: ProxyError): Record<string, string> {
  return {
    'grpc-status': String(err.grpcStatus),
    'grpc-message': grpcMessage(err),
    'x-bulkhead-reason': err.reason,
  };
}

/** `grpc-timeout` (e.g. `100m`, `5S`) in ms, or 0 when absent or malformed. */
export function parseGrpcTimeout(v: string | string[] | undefined): number {
  if (typeof v !== 'string' || v.length < 2 || v.length > 9) return 0;
  const n = Number(v.slice(0, -1));
  if (!Number.isInteger(n) || n < 0) return 0;
  switch (v.charCodeAt(v.length - 1)) {
    case 72:
      return n * 3_600_000; // H
    case 77:
      return n * 60_000; // M
    case 83:
      return n * 1000; // S
    case 109:
      return Math.max(1, n); // m
    case 117:
      return Math.max(1, Math.ceil(n / 1000)); // u
    case 110:
      return Math.max(1, Math.ceil(n / 1_000_000)); // n
    default:
      return 0;
  }
}
