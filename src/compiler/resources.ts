// The compiler's input: a flat bag of objects as the API server (or YAML files) give them.
// Only the fields the compiler reads are typed; everything else passes through untouched.

import type { IngressPool, RateLimitPolicy, RouteSplit, ObjectMeta } from '../api/kinds.ts';
import { isBulkheadDocument } from '../api/validate.ts';

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ObjectMeta;
  spec?: { ports?: ServicePort[]; type?: string };
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1';
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
    zone?: string;
  }[];
  ports?: { name?: string | null; port?: number | null; protocol?: string; appProtocol?: string }[];
}

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
}

export interface ResourceBag {
  ingressPools: IngressPool[];
  routeSplits: RouteSplit[];
  rateLimitPolicies: RateLimitPolicy[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
}

export function emptyBag(): ResourceBag {
  return {
    ingressPools: [],
    routeSplits: [],
    rateLimitPolicies: [],
    services: [],
    endpointSlices: [],
    namespaces: [],
  };
}

/**
 * Sort parsed documents into a bag; unknown kinds are ignored. The same object (kind, namespace,
 * name) given twice counts once, the later document winning, as with `kubectl apply -f`.
 */
export function bagFromDocuments(docs: any[]): ResourceBag {
  const bag = emptyBag();
  const latest = new Map<string, any>();
  for (const d of docs) {
    if (!d || typeof d !== 'object') continue;
    latest.set(`${d.apiVersion}/${d.kind}/${d.metadata?.namespace ?? 'default'}/${d.metadata?.name}`, d);
  }
  for (const d of latest.values()) {
    if (isBulkheadDocument(d)) {
      if (d.kind === 'IngressPool') bag.ingressPools.push(d);
      else if (d.kind === 'RouteSplit') bag.routeSplits.push(d);
      else if (d.kind === 'RateLimitPolicy') bag.rateLimitPolicies.push(d);
    } else if (d.apiVersion === 'v1' && d.kind === 'Service') bag.services.push(d);
    else if (d.apiVersion === 'v1' && d.kind === 'Namespace') bag.namespaces.push(d);
    else if (d.apiVersion === 'discovery.k8s.io/v1' && d.kind === 'EndpointSlice') bag.endpointSlices.push(d);
  }
  return bag;
}

export const nsOf = (o: { metadata: ObjectMeta }) => o.metadata.namespace ?? 'default';
export const keyOf = (o: { metadata: ObjectMeta }) => `${nsOf(o)}/${o.metadata.name}`;

/** Deterministic "older first" order: creationTimestamp, then namespace/name (Gateway API tie-break). */
export function olderFirst(a: { metadata: ObjectMeta }, b: { metadata: ObjectMeta }): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
