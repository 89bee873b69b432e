// Admission checks for the validating webhook, from the same code as the compiler: the schema and
// CEL twins of `analyzeObject`, then the verdict `compile()` would give the object if it were
// admitted. Only the affected pool's slice of the world is compiled (the pool, its routes, the
// policies on them, Namespaces and the routes' Services), so one admission stays cheap at
// 1,000 pools. Cross-object problems that GitOps ordering makes normal (a route applied before its
// pool, a backend Service created later) are warnings, never denials.

import type { IngressPool, RateLimitPolicy, RouteSplit } from '../api/kinds.ts';
import { analyzeObject, type Problem } from '../api/validate.ts';
import { Reason, type ConditionVerdict } from './conditions.ts';
import { compile } from './index.ts';
import { emptyBag, keyOf, nsOf, type ResourceBag } from './resources.ts';

export type AdmissionOperation = 'CREATE' | 'UPDATE';

export interface AdmissionResult {
  /** deny when not empty */
  problems: Problem[];
  /** admitted, but the object will not (yet) work as written */
  warnings: Problem[];
}

/** Reasons that deny admission; everything else the compiler reports becomes a warning. */
const DENY = new Set<string>([Reason.Conflict, Reason.NotAllowedByPool]);

// On CREATE the object is the newest one by definition, so it loses every tie. Its own
// creationTimestamp cannot say so: the API server stamps it with one-second resolution, so an
// object created in the same second as the one it conflicts with would tie and win by name.
const NEWEST = '9999-12-31T23:59:59Z';

export function admissionProblems(
  obj: any,
  world: ResourceBag,
  operation: AdmissionOperation,
): AdmissionResult {
  const { problems } = analyzeObject(obj);
  if (problems.length > 0) return { problems, warnings: [] };
  const incoming = structuredClone(obj);
  if (operation === 'CREATE') incoming.metadata.creationTimestamp = NEWEST;
  const at = { kind: incoming.kind, namespace: nsOf(incoming), name: incoming.metadata.name };
  const out: AdmissionResult = { problems: [], warnings: [] };
  const report = (reason: string, path: string, message: string) =>
    (DENY.has(reason) ? out.problems : out.warnings).push({ ...at, path, message });

  switch (incoming.kind) {
    case 'RouteSplit': {
      const route = incoming as RouteSplit;
      const verdict = compile(sliceFor(world, poolKeyOfRoute(route), route)).statuses.routeSplits[
        keyOf(route)
      ];
      for (const c of verdict?.parents[0]?.conditions ?? []) {
        if (c.status !== 'False') continue;
        if (c.reason === Reason.Conflict) report(c.reason, conflictPath(route, c.message), c.message);
        else if (c.reason === Reason.UnsupportedFeature) reportFieldLines(c.reason, c.message, report);
        else if (c.reason === Reason.BackendNotFound || c.reason === Reason.PortNotFound) {
          for (const m of c.message.split('; ')) report(c.reason, backendPath(route, m), m);
        } else report(c.reason, 'spec.poolRef', c.message);
      }
      break;
    }
    case 'RateLimitPolicy': {
      const policy = incoming as RateLimitPolicy;
      const verdict = compile(sliceFor(world, poolKeyOfPolicy(policy, world), policy)).statuses
        .rateLimitPolicies[keyOf(policy)];
      for (const c of verdict?.conditions ?? [])
        if (c.status === 'False') report(c.reason, 'spec.targetRef', c.message);
      break;
    }
    case 'IngressPool': {
      // A pool denies nothing cross-object; tightening allowedRoutes warns about routes it cuts off.
      const pool = incoming as IngressPool;
      const result = compile(sliceFor(world, keyOf(pool), pool));
      const own = result.statuses.ingressPools[keyOf(pool)]?.conditions.find(
        (x) => x.reason === Reason.UnsupportedFeature,
      );
      if (own) reportFieldLines(own.reason, own.message, report);
      for (const [key, v] of Object.entries(result.statuses.routeSplits)) {
        const c: ConditionVerdict | undefined = v.parents[0]?.conditions.find(
          (x) => x.reason === Reason.NotAllowedByPool,
        );
        if (c)
          out.warnings.push({
            ...at,
            path: 'spec.allowedRoutes',
            message: `RouteSplit ${key} cannot attach: ${c.message}`,
          });
      }
      break;
    }
  }
  return out;
}

function poolKeyOfRoute(r: RouteSplit): string {
  return `${r.spec.poolRef.namespace ?? nsOf(r)}/${r.spec.poolRef.name}`;
}

/** The pool a policy ends up on: its target pool, or its target route's pool; null when unknown. */
function poolKeyOfPolicy(p: RateLimitPolicy, world: ResourceBag): string | null {
  const ns = nsOf(p);
  const t = p.spec.targetRef;
  if (t.kind === 'IngressPool') return `${ns}/${t.name}`;
  const route = world.routeSplits.find((r) => r.metadata.name === t.name && nsOf(r) === ns);
  return route ? poolKeyOfRoute(route) : null;
}

/**
 * The part of the world that decides verdicts in one pool, with `incoming` in place of its stored
 * version. A linear scan: building indexes per call would cost the same, and the world getter may
 * hand us a new bag on every change.
 */
export function sliceFor(
  world: ResourceBag,
  poolKey: string | null,
  incoming: IngressPool | RouteSplit | RateLimitPolicy,
): ResourceBag {
  const bag = emptyBag();
  const incomingKey = keyOf(incoming);
  const same = (o: { kind?: string; metadata: { name: string; namespace?: string } }, kind: string) =>
    kind === incoming.kind && keyOf(o) === incomingKey;
  bag.namespaces = world.namespaces;

  if (poolKey !== null) {
    for (const p of world.ingressPools)
      if (keyOf(p) === poolKey && !same(p, 'IngressPool')) bag.ingressPools.push(p);
    for (const r of world.routeSplits) {
      if (!same(r, 'RouteSplit') && r.spec?.poolRef && poolKeyOfRoute(r) === poolKey) bag.routeSplits.push(r);
    }
  }
  if (incoming.kind === 'IngressPool') bag.ingressPools.push(incoming);
  if (incoming.kind === 'RouteSplit') bag.routeSplits.push(incoming);

  const routeKeys = new Set(bag.routeSplits.map(keyOf));
  const routeNamespaces = new Set(bag.routeSplits.map(nsOf));
  for (const p of world.rateLimitPolicies) {
    if (same(p, 'RateLimitPolicy') || !p.spec?.targetRef) continue;
    const target = `${nsOf(p)}/${p.spec.targetRef.name}`;
    if (p.spec.targetRef.kind === 'IngressPool' ? target === poolKey : routeKeys.has(target))
      bag.rateLimitPolicies.push(p);
  }
  if (incoming.kind === 'RateLimitPolicy') bag.rateLimitPolicies.push(incoming);
  // Services decide BackendNotFound/PortNotFound; endpoints never change a verdict.
  bag.services = world.services.filter((s) => routeNamespaces.has(nsOf(s)));
  return bag;
}

/** A compiler message of `<field path>: <message>` lines joined by `; ` → one warning per line. */
function reportFieldLines(
  reason: string,
  message: string,
  report: (reason: string, path: string, message: string) => void,
): void {
  for (const line of message.split('; ')) {
    const m = /^(spec\.[^:\s]+): (.*)$/.exec(line);
    report(reason, m ? m[1]! : 'spec', m ? m[2]! : line);
  }
}

/** The rule (and match) whose path the compiler's Conflict message names. */
function conflictPath(route: RouteSplit, message: string): string {
  const rules = route.spec.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const matches = rules[i]!.matches ?? [];
    if (matches.length === 0 && message.includes(' path PathPrefix / is already')) return `spec.rules[${i}]`;
    for (let j = 0; j < matches.length; j++) {
      const p = matches[j]!.path;
      const claim = p ? `${p.type} ${p.value}` : 'PathPrefix /';
      if (message.includes(` path ${claim} is already`))
        return `spec.rules[${i}].matches[${j}]${p ? '.path' : ''}`;
    }
  }
  return 'spec.rules';
}

/** The backend a compiler "rule <name>: Service <ns>/<svc> ..." message is about. */
function backendPath(route: RouteSplit, message: string): string {
  const ns = nsOf(route);
  const rules = route.spec.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const name = rules[i]!.name ?? `rule-${i}`;
    const backends = rules[i]!.backends ?? [];
    for (let j = 0; j < backends.length; j++) {
      if (message.startsWith(`rule ${name}: Service ${ns}/${backends[j]!.name} `))
        return `spec.rules[${i}].backends[${j}]`;
    }
  }
  return 'spec.rules';
}
