// Proxy header semantics: hop-by-hop removal both ways (RFC 9110 §7.6.1), the forwarding headers a
// backend expects (X-Forwarded-For/Proto/Host, X-Request-Id) and response headers as a flat
// [name, value, ...] list with lower-case names, which both HTTP/1.1 (`writeHead`) and HTTP/2
// (`respond`, after `flatToObject`) downstreams accept.

import type { IncomingHttpHeaders } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http2';
import { randomBytes } from 'node:crypto';

export type OutgoingHeaders = Record<string, string | string[]>;

/** true for headers that describe one connection and must not cross the proxy */
export function isHopByHop(name: string): boolean {
  switch (name) {
    case 'connection':
    case 'keep-alive':
    case 'transfer-encoding':
    case 'upgrade':
    case 'te':
    case 'http2-settings':
    case 'expect':
    case 'host':
      return true;
    default:
      return name.charCodeAt(0) === 112 /* p */ && name.startsWith('proxy-');
  }
}

function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  // nearly every message says only this: nothing to drop
  if (typeof value === 'string' && value.length <= 10) {
    const v = value.toLowerCase();
    if (v === 'keep-alive' || v === 'close') return null;
  }
  const out = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive') out.add(t);
  }
  return out.size === 0 ? null : out;
}

// A process-unique, cheap request id: random prefix + counter (no crypto call per request).
const idPrefix = randomBytes(6).toString('hex') + '-';
let idCounter = 0;
export function newRequestId(): string {
  idCounter = (idCounter + 1) | 0;
  return idPrefix + (idCounter >>> 0).toString(36);
}

export interface ForwardInfo {
  clientIP: string;
  proto: string;
  host: string;
  requestId: string;
}

/**
 * Request headers for the upstream: everything the client sent minus hop-by-hop and pseudo headers,
 * `te: trailers` kept (gRPC needs it), forwarding headers added. X-Forwarded-For is appended to (the
 * client's chain stays, rate limiting decides how many hops to trust); X-Forwarded-Proto and -Host are
 * set from this listener, since the data plane is the edge that saw the connection. Host goes separately (`host` for
 * HTTP/1.1 upstreams, `:authority` for h2c) and is not in the result.
 */
export function upstreamRequestHeaders(
  src: IncomingHttpHeaders,
  fwd: ForwardInfo,
  /**
   * node:http2's flat [name, value, ...] list of the same header block, when there is one: walked
   * instead of `src`, whose keys (a dictionary-mode object) are slow to enumerate; values of repeated
   * names still come from `src`, where node:http2 has merged them
   */
  raw: string[] | null = null,
): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  const listed = src.connection === undefined ? null : connectionTokens(src.connection);
  if (raw !== null) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) === 58 /* : */ || skipUpstream(name, src, out, listed)) continue;
      out[name] = out[name] === undefined ? raw[i + 1]! : src[name]!;
    }
  } else {
    for (const name in src) {
      const value = src[name];
      if (value === undefined || name.charCodeAt(0) === 58 /* : */ || skipUpstream(name, src, out, listed))
        continue;
      out[name] = value;
    }
  }
  const xff = src['x-forwarded-for'];
  out['x-forwarded-for'] =
    xff === undefined ? fwd.clientIP : (Array.isArray(xff) ? xff.join(', ') : xff) + ', ' + fwd.clientIP;
  out['x-forwarded-proto'] = fwd.proto;
  out['x-forwarded-host'] = fwd.host;
  out['x-request-id'] = fwd.requestId;
  return out;
}

/** true for a request header that does not go upstream as it came (`te: trailers` is put back) */
function skipUpstream(
  name: string,
  src: IncomingHttpHeaders,
  out: OutgoingHeaders,
  listed: Set<string> | null,
): boolean {
  if (isHopByHop(name)) {
    const value = src[name];
    if (name === 'te' && typeof value === 'string' && value.toLowerCase().includes('trailers'))
      out.te = 'trailers';
    return true;
  }
  if (listed !== null && listed.has(name)) return true;
  // the verified client certificate travels in this header; a client's own copy is never trusted
  return name === 'x-forwarded-client-cert';
}

/**
 * Response headers from llhttp's flat [name, value, ...] list (names as the server wrote them):
 * hop-by-hop and Connection-listed names dropped, names lower-cased, appended to `out`.
 */
export function filterFlatResponseHeaders(raw: string[], out: string[]): string[] {
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (isHopByHop(name)) {
      if (name === 'connection') listed = connectionTokens(raw[i + 1]!);
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  return listed === null ? out : dropListed(out, listed);
}

/** Response headers from an h2 upstream (`:status` and other pseudo headers dropped). */
export function filterObjectResponseHeaders(src: IncomingHttpHeaders, out: string[]): string[] {
  const listed = src.connection === undefined ? null : connectionTokens(src.connection);
  for (const name in src) {
    const value = src[name];
    if (value === undefined || name.charCodeAt(0) === 58 || isHopByHop(name)) continue;
    if (listed !== null && listed.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/**
 * Response headers from an h2 upstream as the object an h2 downstream's `respond()` takes, built in
 * one pass (the same filter as filterObjectResponseHeaders, without the flat list in between).
 */
export function h2ResponseHeaders(
  src: IncomingHttpHeaders,
  /** node:http2's flat list of the same block (see upstreamRequestHeaders) */
  raw: string[],
  status: number,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  const listed = src.connection === undefined ? null : connectionTokens(src.connection);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 || isHopByHop(name)) continue;
    if (listed !== null && listed.has(name)) continue;
    out[name] = out[name] === undefined ? raw[i + 1]! : src[name]!;
  }
  return out;
}

function dropListed(flat: string[], listed: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (!listed.has(flat[i]!)) out.push(flat[i]!, flat[i + 1]!);
  return out;
}

/** Flat list → object for HTTP/2 `respond()`; repeated names become arrays (set-cookie). */
export function flatToObject(flat: string[], into: OutgoingHeaders): OutgoingHeaders {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const prev = into[name];
    if (prev === undefined) into[name] = flat[i + 1]!;
    else if (Array.isArray(prev)) prev.push(flat[i + 1]!);
    else into[name] = [prev, flat[i + 1]!];
  }
  return into;
}

/** Trailers from llhttp's flat list, filtered, as an object (for addTrailers/sendTrailers). */
export function flatTrailersToObject(raw: string[]): OutgoingHeaders | null {
  if (raw.length === 0) return null;
  const out: OutgoingHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (isHopByHop(name) || name === 'content-length' || name === '__proto__') continue;
    const v = raw[i + 1]!;
    const prev = out[name];
    out[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * h2 trailers minus pseudo and hop-by-hop names, or null when empty: a fresh plain object, walked from
 * node:http2's flat list (see upstreamRequestHeaders). Not filtered in place: sendTrailers() copies
 * what it gets, and copying node:http2's own dictionary-mode object there costs more than this.
 */
export function filterTrailers(src: IncomingHttpHeaders, raw: string[]): OutgoingHeaders | null {
  let out: OutgoingHeaders | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 || isHopByHop(name)) continue;
    out ??= {};
    out[name] = out[name] === undefined ? raw[i + 1]! : src[name]!;
  }
  return out;
}
