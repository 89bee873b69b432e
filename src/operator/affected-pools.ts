// Event → pools whose output may change. Pure: reads the cached objects it is given. Too many keys
// cost a rebuild that finds nothing to write; too few leave a pool stale, so when in doubt a pool
// is included.

import { LABEL_MANAGED_BY, LABEL_POOL } from '../synth/identity.ts';
import type { ResourceKind } from './api-resources.ts';
import type { KubeObject } from './kube-rest.ts';

export interface AffectedIndex {
  pools(): KubeObject[];
  routes(): KubeObject[];
  route(namespace: string, name: string): KubeObject | undefined;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Pool keys (`<namespace>/<name>`) touched by a change from `old` to `obj` (either may be absent). */
export function affectedPools(
  kind: ResourceKind,
  obj: KubeObject | undefined,
  old: KubeObject | undefined,
  index: AffectedIndex,
): string[] {
  const keys = new Set<string>();
  for (const o of [obj, old]) if (o) collect(kind, o, obj && old ? { obj, old } : undefined, index, keys);
  return [...keys].sort();
}

function collect(
  kind: ResourceKind,
  o: KubeObject,
  change: { obj: KubeObject; old: KubeObject } | undefined,
  index: AffectedIndex,
  keys: Set<string>,
): void {
  const ns = o.metadata.namespace ?? 'default';
  const ownerPool =
    o.metadata.labels?.[LABEL_MANAGED_BY] === 'bulkhead' ? o.metadata.labels?.[LABEL_POOL] : undefined;
  if (ownerPool) keys.add(`${ns}/${ownerPool}`);
  switch (kind) {
    case 'IngressPool':
      keys.add(`${ns}/${o.metadata.name}`);
      return;
    case 'RouteSplit': {
      const key = routePoolKey(o);
      if (key) keys.add(key);
      return;
    }
    case 'RateLimitPolicy': {
      const ref = (o.spec as { targetRef?: { kind?: string; name?: string } } | undefined)?.targetRef;
      if (!ref?.name) return;
      if (ref.kind === 'IngressPool') keys.add(`${ns}/${ref.name}`);
      else if (ref.kind === 'RouteSplit') {
        const route = index.route(ns, ref.name);
        const key = route && routePoolKey(route);
        if (key) keys.add(key);
      }
      return;
    }
    case 'Service':
      return servicePools(ns, o.metadata.name, index, keys);
    case 'EndpointSlice': {
      const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc) servicePools(ns, svc, index, keys);
      return;
    }
    case 'Namespace':
      // Labels decide allowedRoutes; anything else about a namespace does not matter to a pool.
      if (change && sameLabels(change.obj, change.old)) return;
      for (const p of index.pools()) keys.add(`${p.metadata.namespace}/${p.metadata.name}`);
      return;
    default:
      return;
  }
}

function routePoolKey(route: KubeObject): string | undefined {
  const ref = (route.spec as { poolRef?: { name?: string; namespace?: string } } | undefined)?.poolRef;
  if (!ref?.name) return undefined;
  return `${ref.namespace || route.metadata.namespace || 'default'}/${ref.name}`;
}

function servicePools(ns: string, service: string, index: AffectedIndex, keys: Set<string>): void {
  for (const route of index.routes()) {
    if ((route.metadata.namespace ?? 'default') !== ns) continue;
    const rules = (route.spec as { rules?: { backends?: { name?: string }[] }[] } | undefined)?.rules ?? [];
    if (rules.some((r) => (r.backends ?? []).some((b) => b.name === service))) {
      const key = routePoolKey(route);
      if (key) keys.add(key);
    }
  }
}

function sameLabels(a: KubeObject, b: KubeObject): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  return ka.length === Object.keys(lb).length && ka.every((k) => la[k] === lb[k]);
}
