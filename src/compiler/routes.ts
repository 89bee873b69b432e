// Route processor: attaches each RouteSplit to its pool (PoolNotFound, NotAllowedByPool),
// drops invalid rules (Invalid / PartiallyInvalid), rejects cross-namespace host+path conflicts
// (older route wins), resolves backends to clusters (BackendNotFound, PortNotFound) and emits
// RouteIR entries ready for precedence sorting.

import type { RouteSplit } from '../api/kinds.ts';
import type { RouteSplitRule, RouteSplitSpec } from '../api/routesplit.ts';
import { analyzeObject, type Problem } from '../api/validate.ts';
import { grpcPathMatch } from '../api/grpc-match.ts';
import type {
  ClusterIR,
  CorsIR,
  MatchIR,
  RetriesIR,
  RouteIR,
  TimeoutsIR,
  WeightedBackendIR,
} from '../ir/snapshot.ts';
import { contentHash } from './canonical.ts';
import { buildCluster, clusterName, protocolFor, type ServiceIndex } from './clusters.ts';
import { cond, ConditionType, Reason, type ConditionVerdict } from './conditions.ts';
import { durationMs } from './duration.ts';
import { allowsNamespace, summarize, type PoolContext } from './pools.ts';
import type { RankedRoute } from './precedence.ts';
import { keyOf, nsOf } from './resources.ts';
import { unsupportedRouteFields } from './unsupported.ts';
import { authProblems, toAuthIR } from './auth.ts';

export interface AttachedRoute {
  key: string;
  route: RouteSplit;
  namespace: string;
  pool: PoolContext;
  spec: RouteSplitSpec;
  /** rules that passed validation, with their original index */
  rules: { rule: RouteSplitRule; index: number; name: string }[];
  droppedRules: string[];
}

export interface RouteOutcome {
  key: string;
  generation: number | undefined;
  poolRef: { name: string; namespace: string };
  conditions: ConditionVerdict[];
  attached: AttachedRoute | null;
}

/** Validation and pool attachment; conflicts and backends come later, per pool. */
export function attachRoute(
  route: RouteSplit,
  pools: Map<string, PoolContext>,
  nsLabels: Map<string, Record<string, string>>,
): RouteOutcome {
  const key = keyOf(route);
  const namespace = nsOf(route);
  const gen = route.metadata.generation;
  const { problems, spec } = analyzeObject(route);
  const poolRef = {
    name: String(route.spec?.poolRef?.name ?? ''),
    namespace: String(route.spec?.poolRef?.namespace ?? namespace),
  };
  const reject = (reason: string, message: string): RouteOutcome => ({
    key,
    generation: gen,
    poolRef,
    conditions: [cond(ConditionType.Accepted, false, reason, message, gen)],
    attached: null,
  });

  const byRule = new Map<number, Problem[]>();
  const global: Problem[] = [];
  for (const p of problems) {
    const m = /^spec\.rules\[(\d+)\]/.exec(p.path);
    if (m) {
      const i = Number(m[1]);
      byRule.set(i, [...(byRule.get(i) ?? []), p]);
    } else global.push(p);
  }
  if (spec !== null && Array.isArray(spec.rules) && !byRule.size && duplicateRuleNames(spec.rules)) {
    // the CRD's CEL rule sees explicit names only; a default name (rule-<index>) can collide too
    global.push({
      kind: 'RouteSplit',
      namespace,
      name: route.metadata.name,
      path: 'spec.rules',
      message: 'rule names must be unique within the route',
    });
  }
  if (global.length > 0 || spec === null || !Array.isArray(spec.rules)) {
    return reject(
      Reason.Invalid,
      summarize((global.length ? global : problems).map((p) => `${p.path}: ${p.message}`)),
    );
  }

  // the whole route, not one rule: dropping an auth rule would let its path fall through to a
  // less specific rule of the same route, unauthenticated
  const unsupported = unsupportedRouteFields(spec.rules as RouteSplitRule[]);
  if (unsupported.length) return reject(Reason.UnsupportedFeature, summarize(unsupported));
  const badAuth = authProblems(spec.rules as RouteSplitRule[]);
  if (badAuth.length) return reject(Reason.Invalid, summarize(badAuth));

  const pool = pools.get(`${poolRef.namespace}/${poolRef.name}`);
  if (!pool) return reject(Reason.PoolNotFound, `IngressPool ${poolRef.namespace}/${poolRef.name} not found`);
  if (!pool.spec)
    return reject(
      Reason.PoolNotFound,
      `IngressPool ${poolRef.namespace}/${poolRef.name} is not accepted (${
        pool.accepted.reason === Reason.UnsupportedFeature ? pool.accepted.message : 'invalid spec'
      })`,
    );
  if (!allowsNamespace(pool, namespace, nsLabels)) {
    const from = pool.spec.allowedRoutes!.namespaces!.from;
    return reject(
      Reason.NotAllowedByPool,
      `IngressPool ${pool.key} does not allow routes from namespace ${namespace} (allowedRoutes.namespaces.from: ${from})`,
    );
  }

  const rules: AttachedRoute['rules'] = [];
  const droppedRules: string[] = [];
  (spec.rules as RouteSplitRule[]).forEach((rule, index) => {
    const name = rule.name ?? `rule-${index}`;
    const bad = byRule.get(index);
    if (bad)
      droppedRules.push(
        `${name} (${summarize(
          bad.map((p) => `${p.path}: ${p.message}`),
          2,
        )})`,
      );
    else rules.push({ rule, index, name });
  });
  if (rules.length === 0) return reject(Reason.Invalid, `every rule is invalid: ${droppedRules.join('; ')}`);
  return {
    key,
    generation: gen,
    poolRef,
    conditions: [],
    attached: { key, route, namespace, pool, spec: spec as RouteSplitSpec, rules, droppedRules },
  };
}

function duplicateRuleNames(rules: { name?: string }[]): boolean {
  const names = rules.map((r, i) => r.name ?? `rule-${i}`);
  return new Set(names).size !== names.length;
}

/** Host+path claims of a route: each (hostname, path) pair it serves. `*` = any host. */
export function claimsOf(a: AttachedRoute): string[] {
  const hosts = a.spec.hostnames?.length ? [...new Set(a.spec.hostnames.map((h) => h.toLowerCase()))] : ['*'];
  const paths = new Set<string>();
  for (const { rule } of a.rules) {
    const matches = rule.matches?.length ? rule.matches : [{}];
    for (const m of matches as any[]) {
      const path = matchPath(m);
      paths.add(path ? `${path.type} ${normalizePrefix(path.type, path.value)}` : 'PathPrefix /');
    }
  }
  const out: string[] = [];
  for (const h of hosts) for (const p of paths) out.push(`${h} ${p}`);
  return out.sort();
}

export interface CompiledRoutes {
  ranked: (RankedRoute & { ir: RouteIR })[];
  clusters: Map<string, ClusterIR>;
}

/** Turn one accepted route's rules into RouteIR entries, resolving backends into `clusters`. */
export function compileRouteRules(
  a: AttachedRoute,
  routeOrder: number,
  services: ServiceIndex,
  clusters: Map<string, ClusterIR>,
  out: (RankedRoute & { ir: RouteIR })[],
): ConditionVerdict {
  const pool = a.pool.spec!;
  const unresolved: { reason: string; message: string }[] = [];
  const hostnames = [...new Set((a.spec.hostnames ?? []).map((h) => h.toLowerCase()))].sort();

  for (const { rule, index, name } of a.rules) {
    const weights = new Map<string, number>();
    const tried: string[] = [];
    for (const b of rule.backends) {
      const svc = services.service(a.namespace, b.name);
      if (!svc) {
        unresolved.push({
          reason: Reason.BackendNotFound,
          message: `rule ${name}: Service ${a.namespace}/${b.name} not found`,
        });
        continue;
      }
      const port = (svc.spec?.ports ?? []).find((p) => p.port === b.port && (p.protocol ?? 'TCP') === 'TCP');
      if (!port) {
        unresolved.push({
          reason: Reason.PortNotFound,
          message: `rule ${name}: Service ${a.namespace}/${b.name} has no port ${b.port}`,
        });
        continue;
      }
      const protocol = protocolFor(b.protocol ?? 'Auto', port);
      if (rule.grpcWeb?.enabled && protocol !== 'H2C') {
        unresolved.push({
          reason: Reason.UnsupportedProtocol,
          message: `rule ${name}: grpcWeb translates to gRPC over h2c, but backend ${b.name}:${b.port} is ${protocol} (set protocol: H2C or appProtocol kubernetes.io/h2c)`,
        });
        continue;
      }
      let cname = clusterName(a.namespace, b.name, port, protocol);
      if (b.tls) cname += `~tls-${contentHash(b.tls).slice(7, 15)}`;
      if (!clusters.has(cname)) {
        const c = buildCluster(
          cname,
          a.namespace,
          svc,
          port,
          protocol,
          services.endpoints(a.namespace, svc, port),
          pool,
        );
        if (b.tls)
          c.tls = {
            caSecretRef: b.tls.caSecretRef ? { name: b.tls.caSecretRef.name, namespace: a.namespace } : null,
            clientCertificateRef: b.tls.clientCertificateRef
              ? { name: b.tls.clientCertificateRef.name, namespace: a.namespace }
              : null,
            serverName: b.tls.serverName || `${b.name}.${a.namespace}.svc`,
          };
        clusters.set(cname, c);
      }
      tried.push(cname);
      if ((b.weight ?? 1) > 0) weights.set(cname, (weights.get(cname) ?? 0) + (b.weight ?? 1));
    }
    const backends: WeightedBackendIR[] = [...weights]
      .map(([cluster, weight]) => ({ cluster, weight }))
      .sort((x, y) => (x.cluster < y.cluster ? -1 : 1));
    const directResponse = pickDirectResponse(backends, tried, clusters);

    const matches = rule.matches?.length ? rule.matches : [{}];
    matches.forEach((m: any, matchIndex: number) => {
      const match = toMatch(m);
      // keys in sorted order: JSON.stringify of the IR is its canonical form (see canonical.ts)
      const ir: RouteIR = {
        auth: toAuthIR(rule.auth, a.namespace),
        backends: directResponse ? [] : backends,
        cors: rule.cors ? corsIR(rule.cors) : null,
        directResponse,
        grpcWeb: rule.grpcWeb?.enabled ?? false,
        hostnames,
        id: `${a.namespace}/${a.route.metadata.name}/${name}/${matchIndex}`,
        match,
        rateLimits: [],
        retries: mergeRetries(pool, rule),
        rewrite:
          rule.rewrite && (rule.rewrite.replacePrefix !== undefined || rule.rewrite.hostname)
            ? { hostname: rule.rewrite.hostname || null, replacePrefix: rule.rewrite.replacePrefix ?? null }
            : null,
        route: { name: a.route.metadata.name, namespace: a.namespace },
        rule: name,
        sessionAffinity: rule.sessionAffinity
          ? {
              cookie: {
                name: rule.sessionAffinity.cookie.name,
                ttlMs: durationMs(rule.sessionAffinity.cookie.ttl),
              },
            }
          : null,
        timeouts: mergeTimeouts(pool, rule),
        websocket: {
          idleTimeoutMs: durationMs(rule.websocket?.idleTimeout ?? pool.websocket!.idleTimeout),
          maxConnectionDurationMs: durationMs(
            rule.websocket?.maxConnectionDuration ?? pool.websocket!.maxConnectionDuration,
          ),
        },
      };
      out.push({ match, namesHost: hostnames.length > 0, routeOrder, ruleIndex: index, matchIndex, ir });
    });
  }

  if (unresolved.length === 0)
    return cond(
      ConditionType.ResolvedRefs,
      true,
      Reason.ResolvedRefs,
      'all backends resolved',
      a.route.metadata.generation,
    );
  return cond(
    ConditionType.ResolvedRefs,
    false,
    unresolved[0]!.reason,
    summarize(unresolved.map((u) => u.message)),
    a.route.metadata.generation,
  );
}

function corsIR(c: NonNullable<RouteSplitRule['cors']>): CorsIR {
  const lower = (l: string[] | undefined) => [...new Set((l ?? []).map((x) => x.toLowerCase()))];
  return {
    allowCredentials: c.allowCredentials ?? false,
    allowHeaders: lower(c.allowHeaders),
    allowMethods: [...new Set(c.allowMethods ?? [])],
    allowOrigins: lower(c.allowOrigins),
    exposeHeaders: lower(c.exposeHeaders),
    maxAgeSeconds: c.maxAge === undefined ? -1 : Math.floor(durationMs(c.maxAge) / 1000),
  };
}

/** 503 with a reason when nothing can serve the rule; the data plane never sees an empty pick. */
function pickDirectResponse(
  backends: WeightedBackendIR[],
  tried: string[],
  clusters: Map<string, ClusterIR>,
) {
  if (tried.length === 0) return { reason: 'backend-not-found', status: 503 };
  if (backends.length === 0) return { reason: 'no-backend-weight', status: 503 };
  if (backends.every((b) => clusters.get(b.cluster)!.endpoints.length === 0))
    return { reason: 'no-ready-endpoints', status: 503 };
  return null;
}

export function toMatch(m: any): MatchIR {
  const byName = (x: { name: string }, y: { name: string }) =>
    x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
  return {
    cookies: (m.cookies ?? []).map((c: any) => ({ name: c.name, value: c.value })).sort(byName),
    headers: (m.headers ?? [])
      .map((h: any) => ({ name: h.name.toLowerCase(), type: h.type ?? 'Exact', value: h.value }))
      .sort(byName),
    method: m.method ?? null,
    path: matchPath(m),
    queryParams: (m.queryParams ?? [])
      .map((q: any) => ({ name: q.name, type: q.type ?? 'Exact', value: q.value }))
      .sort(byName),
  };
}

/** The path condition of a match: its `path`, or the path a `grpc` condition stands for. */
function matchPath(m: any): MatchIR['path'] {
  if (m.grpc) return grpcPathMatch(m.grpc);
  return m.path ? { type: m.path.type, value: normalizePrefix(m.path.type, m.path.value) } : null;
}

/** `/cart/` and `/cart` are the same prefix for the router (segment-aware), so they are one claim. */
function normalizePrefix(type: string, value: string): string {
  return type === 'PathPrefix' ? value.replace(/\/+$/, '') || '/' : value;
}

function mergeTimeouts(pool: any, rule: RouteSplitRule): TimeoutsIR {
  const t = { ...pool.timeouts, ...(rule.timeouts ?? {}) };
  return {
    connectMs: durationMs(t.connect),
    readMs: durationMs(t.read),
    requestMs: durationMs(t.request),
    sendMs: durationMs(t.send),
  };
}

/** `"true"` is how a YAML 1.1 client spells an unquoted `on:` (see RETRY_ON_ALIAS_DOC). */
function withRetryOn(r: any): any {
  if (!r || r.true === undefined) return r;
  const { true: on, ...rest } = r;
  return { ...rest, on };
}

function mergeRetries(pool: any, rule: RouteSplitRule): RetriesIR {
  const r = { ...withRetryOn(pool.retries), ...withRetryOn(rule.retries ?? {}) };
  return {
    attempts: r.attempts,
    budgetPercent: r.budgetPercent,
    minRetriesPerSecond: r.minRetriesPerSecond,
    on: [...new Set<string>(r.on ?? [])].sort() as RetriesIR['on'],
    perTryTimeoutMs: durationMs(r.perTryTimeout),
  };
}
