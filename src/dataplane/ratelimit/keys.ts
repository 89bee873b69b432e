// Counter keys of a rate-limit rule: the parts a RateLimitPolicy rule names (Route, ClientIP, Header,
// Path, QueryParam) read from the request and joined into one string, computed per request from a
// plan compiled once per snapshot. A part that is absent (no such header, no such query parameter)
// makes the rule not apply to the request, as Envoy's request_headers descriptor does: the request
// is not counted by that rule (docs/RATE-LIMITING.md says how to cap such clients anyway).

import { createHash } from 'node:crypto';
import type { RateLimitKeyPart } from '../../ir/snapshot.ts';
import type { RequestContext } from '../request-context.ts';
import { headerValue } from '../router/request-values.ts';

const K_ROUTE = 0;
const K_CLIENT_IP = 1;
const K_HEADER = 2;
const K_PATH = 3;
const K_QUERY = 4;

interface PartPlan {
  readonly kind: number;
  readonly name: string;
  readonly v4: number;
  readonly v6: number;
}

/** Keys longer than this are replaced by a digest, so a huge header cannot grow memory or Redis keys. */
export const MAX_KEY_CHARS = 256;
const SEP = '\u001f';

export class KeyPlan {
  private readonly parts: PartPlan[];
  constructor(
    parts: RateLimitKeyPart[],
    private readonly trustedHops: number,
  ) {
    this.parts = parts.map(plan);
  }

  /** The counter key for this request, or null when a part is missing (the rule does not apply). */
  keyOf(rc: RequestContext): string | null {
    const parts = this.parts;
    if (parts.length === 0) return '';
    let key = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      let v: string | undefined;
      switch (p.kind) {
        case K_ROUTE: {
          const ir = rc.route!.ir;
          v = ir.route.namespace + '/' + ir.route.name + '/' + ir.rule;
          break;
        }
        case K_CLIENT_IP:
          v = maskIP(rc.clientIP(this.trustedHops), p.v4, p.v6);
          break;
        case K_HEADER:
          v = headerValue(rc.headers, p.name);
          break;
        case K_PATH:
          v = rc.path;
          break;
        default:
          v = queryValue(rc.query, p.name);
      }
      if (v === undefined) return null;
      key = i === 0 ? v : key + SEP + v;
    }
    return key.length > MAX_KEY_CHARS ? 'sha256:' + createHash('sha256').update(key).digest('base64') : key;
  }
}

function plan(p: RateLimitKeyPart): PartPlan {
  switch (p.type) {
    case 'Route':
      return { kind: K_ROUTE, name: '', v4: 0, v6: 0 };
    case 'ClientIP': {
      // a snapshot from an operator before per-family masks carries one `prefixLength`
      const legacy = (p as { prefixLength?: number }).prefixLength;
      if (typeof p.ipv4Prefix !== 'number' && typeof legacy === 'number')
        return { kind: K_CLIENT_IP, name: '', v4: Math.min(legacy, 32), v6: legacy };
      return { kind: K_CLIENT_IP, name: '', v4: p.ipv4Prefix, v6: p.ipv6Prefix };
    }
    case 'Header':
      return { kind: K_HEADER, name: p.name, v4: 0, v6: 0 };
    case 'Path':
      return { kind: K_PATH, name: '', v4: 0, v6: 0 };
    default:
      return { kind: K_QUERY, name: p.name, v4: 0, v6: 0 };
  }
}

/** First value of query parameter `name` (percent-decoded), without parsing the others. */
export function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  let i = 0;
  const n = query.length;
  while (i <= n) {
    let end = query.indexOf('&', i);
    if (end === -1) end = n;
    const eq = query.indexOf('=', i);
    const nameEnd = eq !== -1 && eq < end ? eq : end;
    if (decode(query.slice(i, nameEnd)) === name)
      return nameEnd === end ? '' : decode(query.slice(nameEnd + 1, end));
    i = end + 1;
  }
  return undefined;
}

function decode(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The client address masked to its prefix, in one canonical spelling per address (so `2001:db8::1`
 * and `2001:0db8:0:0::1` count together). IPv4-mapped IPv6 addresses count as IPv4. Text that is
 * not an address (a trusted proxy wrote garbage) is used as written, bounded.
 */
export function maskIP(ip: string, v4: number, v6: number): string {
  if (ip.indexOf(':') === -1) return maskV4(ip, v4) ?? ip.slice(0, 64);
  let s = ip;
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  const lower = s.toLowerCase();
  if (lower.startsWith('::ffff:') && lower.indexOf('.') !== -1) {
    const m = maskV4(lower.slice(7), v4);
    if (m !== null) return m;
  }
  const groups = parseV6(lower);
  if (groups === null) return ip.slice(0, 64);
  let bits = v6;
  let out = '';
  for (let g = 0; g < 8; g++) {
    const keep = bits >= 16 ? 16 : bits <= 0 ? 0 : bits;
    bits -= 16;
    const mask = keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    out += (g === 0 ? '' : ':') + (groups[g]! & mask).toString(16);
  }
  return v6 >= 128 ? out : out + '/' + v6;
}

function maskV4(ip: string, prefix: number): string | null {
  const n = parseV4(ip);
  if (n < 0) return null;
  // the common case, a peer address as the kernel spells it: no work, no new string
  if (prefix >= 32 && v4Canonical) return ip;
  const m = prefix >= 32 ? 0xffffffff : prefix <= 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const v = (n & m) >>> 0;
  const dotted = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  return prefix >= 32 ? dotted : dotted + '/' + prefix;
}

/** set by parseV4: the text had no leading zeros (it is the canonical dotted form) */
let v4Canonical = true;

/** The address as a 32-bit number, or -1 when `ip` is not a dotted IPv4 address. */
function parseV4(ip: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  v4Canonical = true;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
      continue;
    }
    if (c < 48 || c > 57 || digits === 3) return -1;
    if (digits === 1 && part === 0) v4Canonical = false;
    part = part * 10 + (c - 48);
    digits++;
    if (part > 255) return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return n * 256 + part;
}

/** Eight 16-bit groups, or null when `s` is not an IPv6 address. */
function parseV6(s: string): number[] | null {
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return null;
  const head = dbl === -1 ? s : s.slice(0, dbl);
  const tail = dbl === -1 ? '' : s.slice(dbl + 2);
  const a = head === '' ? [] : head.split(':');
  const b = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const all = [...a, ...b];
  // an embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two groups
  const last = all[all.length - 1];
  let v4tail: number[] | null = null;
  if (last !== undefined && last.indexOf('.') !== -1) {
    const q = last.split('.').map(Number);
    if (q.length !== 4 || q.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return null;
    v4tail = [(q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!];
    if (b.length > 0) b.pop();
    else a.pop();
  }
  for (const g of [...a, ...b]) {
    if (g.length === 0 || g.length > 4 || !/^[0-9a-f]+$/.test(g)) return null;
  }
  const count = a.length + b.length + (v4tail === null ? 0 : 2);
  if (dbl === -1 ? count !== 8 : count > 7) return null;
  for (const g of a) words.push(parseInt(g, 16));
  for (let i = count; i < 8; i++) words.push(0);
  for (const g of b) words.push(parseInt(g, 16));
  if (v4tail !== null) words.push(v4tail[0]!, v4tail[1]!);
  return words;
}
