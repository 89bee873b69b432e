// How a `matches[].grpc` condition becomes a path condition. A gRPC call is a POST to
// `/<package.Service>/<Method>`, so the router needs nothing new: Exact with both names is an exact
// path (the highest precedence), anything else a whole-path regular expression for the safe engine
// (regex precedence). Shared by validation (the composed pattern must compile) and the compiler.

export interface GrpcMatchSpec {
  type?: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
}

export interface GrpcPathMatch {
  type: 'Exact' | 'RegularExpression';
  value: string;
}

/** one path segment: what an omitted service or method matches */
const ANY_SEGMENT = '[^/]+';

/** Exact names are validated to [A-Za-z0-9_.]; only the dot means something in a regex. */
function literal(name: string): string {
  return name.replace(/\./g, '\\.');
}

export function grpcPathMatch(g: GrpcMatchSpec): GrpcPathMatch {
  const exact = (g.type ?? 'Exact') === 'Exact';
  if (exact && g.service !== undefined && g.method !== undefined)
    return { type: 'Exact', value: `/${g.service}/${g.method}` };
  const part = (v: string | undefined): string =>
    v === undefined ? ANY_SEGMENT : exact ? literal(v) : `(?:${v})`;
  return { type: 'RegularExpression', value: `/${part(g.service)}/${part(g.method)}` };
}
