// Test helpers: RouteIR / PoolSnapshot with defaults, so tables only spell out what they test.

import type { MatchIR, PoolSnapshot, RouteIR } from '../../src/ir/snapshot.ts';
import { snapshot as fullSnapshot } from '../dataplane/fixtures.ts';

export interface RouteSpec {
  id: string;
  hostnames?: string[];
  match?: Partial<MatchIR>;
  backends?: { cluster: string; weight: number }[];
  sessionAffinity?: RouteIR['sessionAffinity'];
  rewrite?: { replacePrefix?: string | null; hostname?: string | null } | null;
}

export function route(spec: RouteSpec): RouteIR {
  const [ns = 'default', name = 'r', rule = 'rule'] = spec.id.split('/');
  return {
    id: spec.id,
    route: { namespace: ns, name },
    rule,
    hostnames: spec.hostnames ?? [],
    match: { path: null, method: null, headers: [], cookies: [], queryParams: [], ...spec.match },
    backends: spec.backends ?? [{ cluster: `${ns}/svc:80`, weight: 1 }],
    directResponse: null,
    sessionAffinity: spec.sessionAffinity ?? null,
    rewrite: spec.rewrite
      ? { replacePrefix: spec.rewrite.replacePrefix ?? null, hostname: spec.rewrite.hostname ?? null }
      : null,
    timeouts: { connectMs: 1000, readMs: 3000, sendMs: 3000, requestMs: 0 },
    retries: { attempts: 0, on: [], perTryTimeoutMs: 0, budgetPercent: 20, minRetriesPerSecond: 3 },
    websocket: { idleTimeoutMs: 300_000, maxConnectionDurationMs: 0 },
    rateLimits: [],
    auth: null,
  };
}

/** A full snapshot around the routes: the data-plane tests' builder with no clusters. */
export function snapshot(routes: RouteIR[]): PoolSnapshot {
  return fullSnapshot({ routes, clusters: [], over: { accessLog: { enabled: false } } });
}

export interface RequestSpec {
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
}

/** "GET host/path?query" plus headers → RouteRequest */
export function request(line: string, headers: Record<string, string> = {}) {
  const [method, target] = line.split(' ') as [string, string];
  const slash = target.indexOf('/');
  const host = target.slice(0, slash);
  const pathAndQuery = target.slice(slash);
  const q = pathAndQuery.indexOf('?');
  return {
    host,
    path: q === -1 ? pathAndQuery : pathAndQuery.slice(0, q),
    query: q === -1 ? '' : pathAndQuery.slice(q + 1),
    method,
    headers: { host, ...headers },
  };
}
