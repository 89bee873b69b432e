// A RouteSplit rule's `auth` → AuthIR: durations in milliseconds, header names lower-cased and
// sorted, Secret references resolved to the route's namespace, keys in sorted order (the IR's JSON
// is its canonical form). `authProblems` reports what the schema cannot say (exactly one JWKS source).

import type { RouteSplitRule } from '../api/routesplit.ts';
import type { AuthIR } from '../ir/snapshot.ts';
import { durationMs } from './duration.ts';

const lower = (xs: string[] | undefined) => [...new Set((xs ?? []).map((x) => x.toLowerCase()))].sort();

export function toAuthIR(auth: RouteSplitRule['auth'], namespace: string): AuthIR | null {
  if (!auth || (!auth.jwt && !auth.external)) return null;
  const j = auth.jwt;
  const e = auth.external;
  return {
    external: e
      ? {
          failureMode: e.failureMode ?? 'Closed',
          forwardHeaders: lower(e.forwardHeaders),
          responseHeaders: lower(e.responseHeaders),
          timeoutMs: durationMs(e.timeout ?? '500ms'),
          url: e.url,
        }
      : null,
    jwt: j
      ? {
          audiences: [...new Set(j.audiences ?? [])].sort(),
          claimToHeaders: (j.claimToHeaders ?? [])
            .map((c) => ({ claim: c.claim, header: c.header.toLowerCase() }))
            .sort((a, b) => (a.header < b.header ? -1 : a.header > b.header ? 1 : 0)),
          forwardToken: j.forwardToken ?? true,
          issuer: j.issuer,
          jwks: {
            cacheDurationMs: durationMs(j.jwks.cacheDuration ?? '5m'),
            secretRef: j.jwks.secretRef
              ? { key: j.jwks.secretRef.key, name: j.jwks.secretRef.name, namespace }
              : null,
            uri: j.jwks.uri ?? null,
          },
        }
      : null,
  };
}

/** `<field path>: <message>` lines for auth settings the schema lets through but no data plane can serve. */
export function authProblems(rules: RouteSplitRule[]): string[] {
  const out: string[] = [];
  rules.forEach((rule, i) => {
    const jwks = rule.auth?.jwt?.jwks;
    if (jwks && !jwks.uri === !jwks.secretRef)
      out.push(`spec.rules[${i}].auth.jwt.jwks: set exactly one of uri and secretRef`);
  });
  return out;
}
