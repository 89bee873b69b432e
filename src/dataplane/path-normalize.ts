// Request path normalisation, done once before routing so that routing, every policy and the
// upstream all see the same path: `/public/../admin`, `/public/%2e%2e/admin` and `/./admin` are all
// `/admin`, and a rule or a rate limit on `/admin` cannot be walked around by spelling it another way.
//
//   1. Percent-encoded unreserved characters (ALPHA DIGIT - . _ ~, RFC 3986 §2.3) are decoded;
//      other escapes stay encoded with upper-case hex (`%2f` → `%2F`: an encoded slash is data, not a
//      separator, and is never decoded). A malformed escape (`%zz`, `%4`) makes the request invalid.
//   2. Dot segments are removed (RFC 3986 §5.2.4); `..` never climbs above the root.
//   3. With `mergeSlashes`, runs of `/` become one (`//admin` → `/admin`). Off by default, as in
//      Envoy: some backends give `//` a meaning (S3-style keys), so a pool opts in.
// The common path (no `%`, no `/.`, no `//`) is returned as is, without allocating.

const HEX = '0123456789ABCDEF';

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function unreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c === 126
  );
}

/** The normalised path, or null when the path is malformed (answer 400). */
export function normalizePath(path: string, mergeSlashes = false): string | null {
  if (path.charCodeAt(0) !== 47 /* / */) return path === '*' ? path : null;
  const pct = path.indexOf('%');
  if (pct === -1 && path.indexOf('/.') === -1 && (!mergeSlashes || path.indexOf('//') === -1)) return path;
  let p = path;
  if (pct !== -1) {
    let out = path.slice(0, pct);
    for (let i = pct; i < path.length; i++) {
      const c = path.charCodeAt(i);
      if (c !== 37 /* % */) {
        out += path[i];
        continue;
      }
      const hi = hexVal(path.charCodeAt(i + 1));
      const lo = hexVal(path.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return null;
      const v = hi * 16 + lo;
      out += unreserved(v) ? String.fromCharCode(v) : '%' + HEX[hi] + HEX[lo];
      i += 2;
    }
    p = out;
  }
  return removeDotSegments(p, mergeSlashes);
}

function removeDotSegments(p: string, mergeSlashes: boolean): string {
  const segs = p.split('/');
  const out: string[] = [];
  // segs[0] is '' (the path starts with '/'); the last segment decides whether a '/' trails
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]!;
    const last = i === segs.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length > 0) out.pop();
      if (last) out.push(''); // `/a/.` and `/a/b/..` keep their trailing slash, as §5.2.4 does
      continue;
    }
    if (s === '' && mergeSlashes && !last) continue;
    out.push(s);
  }
  return '/' + out.join('/');
}
