// Request-head rules the engine applies on top of llhttp's strict parsing, in one pass over the
// header list: version (1.0 and 1.1 only), CONNECT, header count and URI limits, exactly one valid
// Host on HTTP/1.1, the request-target form, upgrades without a body, Expect. llhttp has already
// rejected bare LF, obs-fold, NUL/CR/LF in values, invalid tokens, Content-Length together with
// Transfer-Encoding, repeated Content-Length, a Transfer-Encoding not ending in chunked, bad chunks.
//
// Absolute-form targets (`GET http://a.example/x HTTP/1.1`, RFC 9112 §3.2.2): the request is routed
// by the target's authority, and the Host header must name the same authority (case-insensitive);
// a mismatch is refused rather than resolved, so a policy keyed on Host and the router never disagree.

import type { ClientSocket } from '../raw-socket.ts';
import type { IncomingHttpHeaders } from 'node:http';
import { METHODS } from './parser.ts';
import { Http1Request } from './request.ts';
import { Rejects, type Reject } from './reject.ts';

export interface HeadLimits {
  readonly maxHeaderCount: number;
  readonly maxUriBytes: number;
}

// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name or IPv4 address
// (unreserved, pct-encoded, sub-delims) or a bracketed IPv6 literal, then optional digits. No '/',
// '?', '#', '@', space, '\\', non-ASCII.
const NAME_CHAR = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~%!$&'()*+,;=")
  NAME_CHAR[c.charCodeAt(0)] = 1;
const IPV6_CHAR = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF:.') IPV6_CHAR[c.charCodeAt(0)] = 1;

export function validHost(v: string): boolean {
  const n = v.length;
  if (n === 0 || n > 255) return false;
  let i = 0;
  if (v.charCodeAt(0) === 91 /* [ */) {
    for (i = 1; i < n && v.charCodeAt(i) !== 93 /* ] */; i++)
      if (IPV6_CHAR[v.charCodeAt(i)] !== 1) return false;
    if (i === n || i === 1) return false;
    i++;
  } else {
    for (; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c === 58 /* : */) break;
      if (c > 127 || NAME_CHAR[c] !== 1) return false;
    }
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (v.charCodeAt(i) !== 58 || n - i - 1 > 5) return false;
  for (i++; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** The request, or the answer that refuses it. `raw` is llhttp's [name, value, ...] list. */
export function buildRequest(
  lim: HeadLimits,
  socket: ClientSocket,
  major: number,
  minor: number,
  raw: string[],
  methodIndex: number,
  target: string,
  upgradeFlag: boolean,
  keepAlive: boolean,
): Http1Request | Reject {
  if (major !== 1 || minor > 1) return major === 0 ? Rejects.http09 : Rejects.version;
  const method = METHODS[methodIndex]!;
  if (method === 'CONNECT') return Rejects.connect;
  if (raw.length > lim.maxHeaderCount * 2) return Rejects.tooManyHeaders;
  if (target.length > lim.maxUriBytes) return Rejects.uriTooLong;
  const headers: IncomingHttpHeaders = {};
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = headers[name];
    if (name === 'host') {
      if (++hosts > 1) return Rejects.duplicateHost;
      if (!validHost(value)) return Rejects.invalidHost;
      headers.host = value;
    } else if (prev === undefined) {
      if (name === '__proto__') continue;
      headers[name] = name === 'set-cookie' ? [value] : value;
    } else if (name === 'set-cookie') (prev as string[]).push(value);
    else headers[name] = prev + (name === 'cookie' ? '; ' : ', ') + value;
  }
  let url = target;
  if (target.charCodeAt(0) !== 47 /* / */ && !(target === '*' && method === 'OPTIONS')) {
    const start = authorityStart(target);
    if (start === -1) return Rejects.badTarget;
    let end = start;
    while (end < target.length && !END_OF_AUTHORITY.has(target.charCodeAt(end))) end++;
    const authority = target.slice(start, end);
    if (!validHost(authority)) return Rejects.badTarget;
    const host = headers.host;
    if (host === undefined) headers.host = authority;
    else if (host.toLowerCase() !== authority.toLowerCase()) return Rejects.hostMismatch;
    const c = target.charCodeAt(end);
    url = c === 47 ? target.slice(end) : c === 63 ? '/' + target.slice(end) : '/';
  } else if (hosts === 0 && minor === 1) return Rejects.missingHost;
  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  const contentLength = cl === undefined ? -1 : Number(cl);
  const hasBody = te !== undefined || contentLength > 0;
  const req = new Http1Request(
    method,
    url,
    headers,
    minor === 1 ? '1.1' : '1.0',
    socket,
    keepAlive,
    te !== undefined ? -1 : contentLength,
    hasBody,
  );
  if (upgradeFlag) {
    if (hasBody) return Rejects.upgradeWithBody;
    req.upgrade = method === 'GET' && isWebSocket(headers.upgrade);
  }
  const expect = headers.expect;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue') return Rejects.expectation;
    req.expectContinue = hasBody && minor === 1;
  }
  return req;
}

/** '/', '?', '#' */
const END_OF_AUTHORITY = new Set([47, 63, 35]);

/** Index where the authority of `http://authority...` / `https://...` starts; -1 for other forms. */
function authorityStart(t: string): number {
  const sep = t.indexOf('://');
  if (sep === -1) return -1;
  const scheme = t.slice(0, sep).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? sep + 3 : -1;
}

function isWebSocket(v: string | string[] | undefined): boolean {
  if (typeof v !== 'string') return false;
  for (const t of v.split(',')) if (t.trim().toLowerCase() === 'websocket') return true;
  return false;
}
