// The API resources the operator reads and writes, and their REST paths. A fixed table instead of
// discovery: the operator supports exactly these group/versions, and a missing one should fail
// loudly at the first list, not be guessed around.

import { APPLY_ORDER } from '../synth/canonical.ts';

export interface ApiResource {
  kind: string;
  group: string; // '' = core
  version: string;
  plural: string;
  namespaced: boolean;
}

const r = (kind: string, group: string, version: string, plural: string, namespaced = true): ApiResource => ({
  kind,
  group,
  version,
  plural,
  namespaced,
});

export const RESOURCES = {
  IngressPool: r('IngressPool', 'bulkhead.dev', 'v1alpha1', 'ingresspools'),
  RouteSplit: r('RouteSplit', 'bulkhead.dev', 'v1alpha1', 'routesplits'),
  RateLimitPolicy: r('RateLimitPolicy', 'bulkhead.dev', 'v1alpha1', 'ratelimitpolicies'),
  Service: r('Service', '', 'v1', 'services'),
  EndpointSlice: r('EndpointSlice', 'discovery.k8s.io', 'v1', 'endpointslices'),
  Namespace: r('Namespace', '', 'v1', 'namespaces', false),
  ServiceAccount: r('ServiceAccount', '', 'v1', 'serviceaccounts'),
  ConfigMap: r('ConfigMap', '', 'v1', 'configmaps'),
  Deployment: r('Deployment', 'apps', 'v1', 'deployments'),
  DaemonSet: r('DaemonSet', 'apps', 'v1', 'daemonsets'),
  HorizontalPodAutoscaler: r('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers'),
  PodDisruptionBudget: r('PodDisruptionBudget', 'policy', 'v1', 'poddisruptionbudgets'),
  Lease: r('Lease', 'coordination.k8s.io', 'v1', 'leases'),
} as const;

export type ResourceKind = keyof typeof RESOURCES;

/** Kinds the synthesizer emits for a pool (the owned workloads, watched by label), in apply order. */
export const OWNED_KINDS = APPLY_ORDER satisfies readonly ResourceKind[];
export type OwnedKind = (typeof OWNED_KINDS)[number];

export function resourceFor(kind: string): ApiResource {
  const res = (RESOURCES as Record<string, ApiResource>)[kind];
  if (!res) throw new Error(`BH_ERR_KUBE_API: the operator does not handle kind ${kind}`);
  return res;
}

export function apiVersionOf(res: ApiResource): string {
  return res.group ? `${res.group}/${res.version}` : res.version;
}

export function resourcePath(res: ApiResource, namespace?: string, name?: string, sub?: string): string {
  let p = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  if (res.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${res.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (sub) p += `/${sub}`;
  return p;
}
