// Fields the API carries before the data plane enforces them. "Accepted means enforced": an object
// using one is refused alone (Accepted=False, reason UnsupportedFeature, left out of the snapshot),
// so the rest of its pool keeps serving and no data plane NACKs or crash-loops because of it.
// Lifting a refusal is deleting its entry from NOT_ENFORCED once the data plane enforces the field.

import type { IngressPoolSpec } from '../api/ingresspool.ts';
import type { RouteSplitRule } from '../api/routesplit.ts';

export type GatedFeature = 'listener.tls' | 'auth.jwt' | 'auth.external' | 'backend.tls';

/** Features the data plane does not enforce yet. */
export const NOT_ENFORCED: ReadonlySet<GatedFeature> = new Set<GatedFeature>();

const WHAT: Record<GatedFeature, string> = {
  'listener.tls': 'the HTTPS listener',
  'auth.jwt': 'JWT authentication',
  'auth.external': 'external authentication',
  'backend.tls': 'upstream TLS',
};

function refusal(path: string, feature: GatedFeature): string {
  return `${path}: ${WHAT[feature]} is not enforced by the data plane yet (remove the field until a release supports it)`;
}

/** `<field path>: <message>` lines for an IngressPool's unenforced fields; [] when none. */
export function unsupportedPoolFields(spec: IngressPoolSpec, gate = NOT_ENFORCED): string[] {
  if (spec.listener?.tls && gate.has('listener.tls')) return [refusal('spec.listener.tls', 'listener.tls')];
  return [];
}

/** `<field path>: <message>` lines for a RouteSplit's unenforced fields; [] when none. */
export function unsupportedRouteFields(rules: RouteSplitRule[], gate = NOT_ENFORCED): string[] {
  const out: string[] = [];
  rules.forEach((rule, i) => {
    if (rule.auth?.jwt && gate.has('auth.jwt')) out.push(refusal(`spec.rules[${i}].auth.jwt`, 'auth.jwt'));
    if (rule.auth?.external && gate.has('auth.external'))
      out.push(refusal(`spec.rules[${i}].auth.external`, 'auth.external'));
    (rule.backends ?? []).forEach((b, j) => {
      if (b.tls && gate.has('backend.tls'))
        out.push(refusal(`spec.rules[${i}].backends[${j}].tls`, 'backend.tls'));
    });
  });
  return out;
}
