// Match precedence inside a pool: exact path > longer prefix > regex; then more header, cookie
// and query conditions (so a header canary beats a cookie rule beats a plain weighted rule for the
// same path); then a method; then a route that names the host before one serving any host; then the
// older route, then the rule's own order.

import type { MatchIR } from '../ir/snapshot.ts';

export interface RankedRoute {
  match: MatchIR;
  /** whether the route names hostnames: on a tie it goes before routes serving any host */
  namesHost: boolean;
  /** position of the owning route in older-first order */
  routeOrder: number;
  ruleIndex: number;
  matchIndex: number;
}

const PATH_RANK = { Exact: 0, PathPrefix: 1, RegularExpression: 2 } as const;

export function comparePrecedence(a: RankedRoute, b: RankedRoute): number {
  const pa = a.match.path ?? { type: 'PathPrefix' as const, value: '/' };
  const pb = b.match.path ?? { type: 'PathPrefix' as const, value: '/' };
  if (pa.type !== pb.type) return PATH_RANK[pa.type] - PATH_RANK[pb.type];
  if (pa.value.length !== pb.value.length) return pb.value.length - pa.value.length;
  return (
    b.match.headers.length - a.match.headers.length ||
    b.match.cookies.length - a.match.cookies.length ||
    b.match.queryParams.length - a.match.queryParams.length ||
    (b.match.method ? 1 : 0) - (a.match.method ? 1 : 0) ||
    (b.namesHost ? 1 : 0) - (a.namesHost ? 1 : 0) ||
    (pa.value < pb.value ? -1 : pa.value > pb.value ? 1 : 0) ||
    a.routeOrder - b.routeOrder ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}
