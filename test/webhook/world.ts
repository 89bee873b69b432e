// A small world for admission tests: two teams claiming one pool, a pool that only allows its own
// namespace, and their Services.

import { emptyBag, type ResourceBag } from '../../src/compiler/resources.ts';

const API = 'bulkhead.dev/v1alpha1';

export function pool(ns: string, name: string, from: 'All' | 'Same' = 'All'): any {
  return {
    apiVersion: API,
    kind: 'IngressPool',
    metadata: { name, namespace: ns, creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 },
    spec: { productLine: name, allowedRoutes: { namespaces: { from } } },
  };
}

export function route(
  ns: string,
  name: string,
  opts: {
    pool?: string;
    poolNs?: string;
    host?: string;
    path?: string;
    created?: string;
    backend?: string;
  } = {},
): any {
  return {
    apiVersion: API,
    kind: 'RouteSplit',
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: opts.created ?? '2026-02-01T00:00:00Z',
      generation: 1,
    },
    spec: {
      poolRef: { name: opts.pool ?? 'shared', namespace: opts.poolNs ?? 'edge' },
      hostnames: [opts.host ?? 'shop.example.com'],
      rules: [
        {
          name: 'main',
          matches: [{ path: { type: 'PathPrefix', value: opts.path ?? '/api' } }],
          backends: [{ name: opts.backend ?? 'api', port: 8080 }],
        },
      ],
    },
  };
}

export function policy(
  ns: string,
  name: string,
  target: { kind: 'RouteSplit' | 'IngressPool'; name: string; rule?: string },
  created = '2026-03-01T00:00:00Z',
): any {
  return {
    apiVersion: API,
    kind: 'RateLimitPolicy',
    metadata: { name, namespace: ns, creationTimestamp: created, generation: 1 },
    spec: { targetRef: target, rules: [{ name: 'r', limit: { requests: 10, period: '1s' } }] },
  };
}

export function service(ns: string, name: string): any {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { ports: [{ port: 8080 }] },
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): any {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/** edge/shared (All), edge/private (Same); team-a's route `shop` holds shop.example.com /api. */
export function sampleWorld(): ResourceBag {
  const bag = emptyBag();
  bag.namespaces = ['edge', 'team-a', 'team-b'].map((n) => namespace(n));
  bag.ingressPools = [pool('edge', 'shared'), pool('edge', 'private', 'Same')];
  bag.routeSplits = [route('team-a', 'shop', { created: '2026-01-15T00:00:00Z' })];
  bag.services = [service('team-a', 'api'), service('team-b', 'api')];
  bag.rateLimitPolicies = [policy('team-a', 'shop-limit', { kind: 'RouteSplit', name: 'shop' })];
  return bag;
}
