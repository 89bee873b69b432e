// Test helpers: RouteIR / PoolSnapshot with defaults, so tables only spell out what they test.

import type { MatchIR, PoolSnapshot, RouteIR } from '../../src/ir/snapshot.ts';

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

export function snapshot(routes: RouteIR[]): PoolSnapshot {
  return {
    apiVersion: 'bulkhead.dev/snapshot/v1',
    version: 'sha256:test',
    pool: { namespace: 'edge', name: 'pool', productLine: 'test' },
    workers: 1,
    listener: {
      port: 8080,
      adminPort: 9901,
      maxHeaderBytes: 16384,
      backlog: 511,
      keepAliveTimeoutMs: 75_000,
      maxRequestsPerConnection: 10_000,
      requestHeaderTimeoutMs: 10_000,
      tls: null,
    },
    upstream: { maxIdlePerEndpoint: 200, idleTimeoutMs: 100_000, maxRequestsPerConnection: 10_000 },
    websocket: {
      enabled: true,
      idleTimeoutMs: 300_000,
      maxConnectionDurationMs: 0,
      maxConnections: 10_000,
      drainPeriodMs: 30_000,
      http2: false,
    },
    overload: { maxConcurrentRequests: 10_000, maxEventLoopDelayMs: 200 },
    accessLog: { enabled: false, sampleRate: 1 },
    routes,
    clusters: [],
    rateLimits: [],
  };
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
