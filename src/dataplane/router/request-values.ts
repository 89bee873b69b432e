// Reading cookies, query parameters and headers out of a request the way route matches need them.
// Cookies and the query string are parsed at most once per match() call, and only when some route
// in the selected host group has a cookie or query condition.

import type { IncomingHttpHeaders } from 'node:http';

/** Value of the first cookie called `name` in a Cookie header, without parsing the others. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 9)) i++;
    let end = header.indexOf(';', i);
    if (end === -1) end = n;
    const eq = header.indexOf('=', i);
    if (eq !== -1 && eq < end && eq - i === name.length && header.startsWith(name, i)) {
      return header.slice(eq + 1, end).trim();
    }
    i = end + 1;
  }
  return undefined;
}

/** Fills `into` with every cookie (first occurrence of a name wins). */
export function parseCookies(header: string | undefined, into: Map<string, string>): void {
  if (header === undefined) return;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (name !== '' && !into.has(name)) into.set(name, part.slice(eq + 1).trim());
  }
}

function decodeComponent(s: string): string {
  if (s.indexOf('%') === -1) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a malformed escape is compared as written
  }
}

/**
 * Fills `into` with the first value of each query parameter, percent-decoded. `+` is kept as is:
 * Gateway API compares query values as sent, and `+` only means space in HTML form encoding.
 */
export function parseQuery(query: string, into: Map<string, string>): void {
  if (query === '') return;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq === -1 ? part : part.slice(0, eq));
    if (!into.has(name)) into.set(name, eq === -1 ? '' : decodeComponent(part.slice(eq + 1)));
  }
}

/** A header as one string: repeated headers (node gives arrays only for a few) are joined with ", ". */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined || typeof v === 'string') return v;
  return v.join(', ');
}
