// One route's match conditions compiled once per snapshot: path kind as a small integer, regexes
// compiled, empty condition lists as null so the hot path only tests for null.

import type { MatchIR, StringMatchIR } from '../../ir/snapshot.ts';
import { RegexSyntaxError, SafeRegex } from '../../regex/index.ts';

export const PATH_ANY = 0;
export const PATH_EXACT = 1;
export const PATH_PREFIX = 2;
export const PATH_REGEX = 3;

export interface CompiledStringMatch {
  readonly name: string;
  /** set for Exact */
  readonly exact: string | null;
  /** set for RegularExpression (whole-value match) */
  readonly regex: SafeRegex | null;
}

export class RouteTableError extends Error {
  readonly code = 'BH_ERR_ROUTE_TABLE';
  constructor(message: string) {
    super(message);
    this.name = 'RouteTableError';
  }
}

function compileRegex(routeId: string, field: string, pattern: string): SafeRegex {
  try {
    return SafeRegex.compile(pattern);
  } catch (err) {
    if (err instanceof RegexSyntaxError) {
      throw new RouteTableError(
        `route ${routeId}: ${field}: invalid regular expression ${JSON.stringify(pattern)}: ${err.message}; the snapshot is refused`,
      );
    }
    throw err;
  }
}

function compileStringMatches(
  routeId: string,
  field: string,
  list: StringMatchIR[],
): CompiledStringMatch[] | null {
  if (list.length === 0) return null;
  return list.map((m, i) => ({
    name: m.name,
    exact: m.type === 'Exact' ? m.value : null,
    regex:
      m.type === 'RegularExpression' ? compileRegex(routeId, `${field}[${i}] (${m.name})`, m.value) : null,
  }));
}

export function stringMatchFits(m: CompiledStringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  return m.regex !== null ? m.regex.test(value) : value === m.exact;
}

export class CompiledMatch {
  readonly pathKind: number;
  /** Exact: the path; PathPrefix: the prefix without a trailing slash ('' for `/`) */
  readonly pathValue: string;
  readonly pathRegex: SafeRegex | null;
  readonly method: string | null;
  readonly headers: CompiledStringMatch[] | null;
  readonly cookies: { readonly name: string; readonly value: string }[] | null;
  readonly query: CompiledStringMatch[] | null;

  constructor(routeId: string, m: MatchIR) {
    const path = m.path;
    this.pathRegex = null;
    if (path === null) {
      this.pathKind = PATH_ANY;
      this.pathValue = '';
    } else if (path.type === 'Exact') {
      this.pathKind = PATH_EXACT;
      this.pathValue = path.value;
    } else if (path.type === 'PathPrefix') {
      // Gateway API: a trailing slash in the prefix is ignored, matching is per path segment
      const v = path.value.replace(/\/+$/, '');
      this.pathKind = v === '' ? PATH_ANY : PATH_PREFIX;
      this.pathValue = v;
    } else {
      this.pathKind = PATH_REGEX;
      this.pathValue = path.value;
      this.pathRegex = compileRegex(routeId, 'match.path', path.value);
    }
    this.method = m.method;
    this.headers = compileStringMatches(routeId, 'match.headers', m.headers);
    this.cookies = m.cookies.length > 0 ? m.cookies.map((c) => ({ name: c.name, value: c.value })) : null;
    this.query = compileStringMatches(routeId, 'match.queryParams', m.queryParams);
  }

  pathFits(path: string): boolean {
    switch (this.pathKind) {
      case PATH_ANY:
        return true;
      case PATH_EXACT:
        return path === this.pathValue;
      case PATH_PREFIX: {
        const p = this.pathValue;
        return path.startsWith(p) && (path.length === p.length || path.charCodeAt(p.length) === 47); /* / */
      }
      default:
        return this.pathRegex!.test(path);
    }
  }
}
