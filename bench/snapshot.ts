// The PoolSnapshot the benchmark's Bulkhead peer loads: one pool, one worker, two routes — gRPC
// health calls to the Go h2c backend, everything else to the HTTP/1.1 nginx backend. Settings match
// the nginx peers' configs (bench/nginx-config.ts): upstream pool of 200 idle connections, the same
// timeouts, connection request limits high enough that a run never recycles a connection, access
// log on for every request. Variants: an HTTPS listener (TLS 1.3 only, the bench certificate read
// through `--secrets`) for the HTTPS suite, and gRPC-Web translation on the gRPC route.

import { contentHash } from '../src/compiler/canonical.ts';
import {
  SNAPSHOT_API,
  type ClusterIR,
  type PoolSnapshot,
  type RateLimitIR,
  type RouteIR,
} from '../src/ir/snapshot.ts';
import { MAX_REQUESTS_PER_CONNECTION, UPSTREAM_KEEPALIVE } from './nginx-config.ts';
import { BENCH_TLS_SECRET } from './tls.ts';

export const GRPC_PATH_PREFIX = '/grpc.health.v1.Health/';
const NS = 'bench';

export interface BenchSnapshotInput {
  port: number;
  adminPort: number;
  httpBackendPort: number;
  grpcBackendPort: number;
  /** a rate limit on the HTTP route (peers bulkhead-local-limit / bulkhead-global-limit) */
  limit?: BenchLimit;
  /** an HTTPS listener on this port (0: any free port), certificate from BENCH_TLS_SECRET */
  tlsPort?: number;
  /**
   * `grpcWeb: true` on the gRPC route (peer bulkhead-grpc-web). Only that peer's snapshot has it, so
   * the plain gRPC peer's route keeps an empty policy chain, exactly as before.
   */
  grpcWeb?: boolean;
}

/** The rate-limit variants: what one decision per request costs, never an actual 429. */
export type BenchLimit = 'none' | 'local' | 'global';
/** Where the Global variant's Redis URL is read (`--secrets <dir>/bench/ratelimit-redis/url`). */
export const BENCH_REDIS_SECRET = { namespace: NS, name: 'ratelimit-redis', key: 'url' };

/** Keyed per client address (one key under wrk) with a budget no run can spend. */
function benchLimit(mode: 'Local' | 'Global'): RateLimitIR {
  return {
    cost: 1,
    // Closed: a Redis problem shows up as failed requests in the check, never as a fast-looking run
    global:
      mode === 'Global'
        ? { failureMode: 'Closed', redisSecretRef: BENCH_REDIS_SECRET, timeoutMs: 100 }
        : null,
    id: `${NS}/bench-limit/per-client`,
    key: [{ ipv4Prefix: 32, ipv6Prefix: 128, type: 'ClientIP' }],
    limit: { burst: 0, periodMs: 1000, requests: 1_000_000_000 },
    match: null,
    mode,
    policy: { name: 'bench-limit', namespace: NS },
    responseHeaders: true,
    shadow: false,
    trustedHops: 0,
  };
}

function cluster(service: string, port: number, protocol: ClusterIR['protocol']): ClusterIR {
  return {
    name: `${NS}/${service}:${port}`,
    service: { namespace: NS, name: service },
    port,
    protocol,
    loadBalancer: {
      algorithm: 'RoundRobin',
      consistentHash: { header: null, cookie: null, clientIP: false },
    },
    // No health checking: nginx's peers do none either (passive max_fails aside), and a single
    // endpoint leaves nothing to fail over to.
    healthCheck: { active: null, passive: null },
    endpoints: [{ address: '127.0.0.1', port, zone: null }],
    tls: null,
  };
}

function route(rule: string, prefix: string, clusterName: string): RouteIR {
  return {
    id: `${NS}/bench/${rule}/0`,
    route: { namespace: NS, name: 'bench' },
    rule,
    hostnames: [],
    match: {
      path: { type: 'PathPrefix', value: prefix },
      method: null,
      headers: [],
      cookies: [],
      queryParams: [],
    },
    backends: [{ cluster: clusterName, weight: 1 }],
    directResponse: null,
    sessionAffinity: null,
    rewrite: null,
    timeouts: { connectMs: 1000, readMs: 3000, sendMs: 3000, requestMs: 0 },
    retries: { attempts: 0, on: [], perTryTimeoutMs: 0, budgetPercent: 20, minRetriesPerSecond: 3 },
    websocket: { idleTimeoutMs: 300_000, maxConnectionDurationMs: 0 },
    rateLimits: [],
    auth: null,
  };
}

export function benchSnapshot(i: BenchSnapshotInput): PoolSnapshot {
  const http = cluster('http-backend', i.httpBackendPort, 'HTTP1');
  const grpc = cluster('grpc-backend', i.grpcBackendPort, 'H2C');
  const body: Omit<PoolSnapshot, 'version'> = {
    apiVersion: SNAPSHOT_API,
    pool: { namespace: NS, name: 'bench', productLine: 'bench' },
    workers: 1,
    listener: {
      port: i.port,
      adminPort: i.adminPort,
      maxHeaderBytes: 16_384,
      backlog: 4096,
      keepAliveTimeoutMs: 75_000,
      maxRequestsPerConnection: MAX_REQUESTS_PER_CONNECTION,
      requestHeaderTimeoutMs: 10_000,
      tls:
        i.tlsPort === undefined
          ? null
          : {
              port: i.tlsPort,
              certificates: [{ secretRef: { ...BENCH_TLS_SECRET } }],
              minVersion: 'TLS1.3',
              redirectHTTP: false,
              clientAuth: null,
            },
    },
    upstream: {
      maxIdlePerEndpoint: UPSTREAM_KEEPALIVE,
      idleTimeoutMs: 100_000,
      maxRequestsPerConnection: MAX_REQUESTS_PER_CONNECTION,
    },
    websocket: {
      enabled: true,
      idleTimeoutMs: 300_000,
      maxConnectionDurationMs: 0,
      maxConnections: 10_000,
      drainPeriodMs: 1000,
      http2: false,
    },
    // Shedding stays on as in production, set high enough not to trigger at these loads.
    overload: { maxConcurrentRequests: 10_000, maxEventLoopDelayMs: 1000 },
    accessLog: { enabled: true, sampleRate: 1 },
    routes: [route('grpc', GRPC_PATH_PREFIX, grpc.name), route('http', '/', http.name)],
    clusters: [grpc, http].sort((a, b) => (a.name < b.name ? -1 : 1)),
    rateLimits: [],
  };
  const limit = i.limit ?? 'none';
  if (limit !== 'none') {
    const rl = benchLimit(limit === 'local' ? 'Local' : 'Global');
    body.rateLimits = [rl];
    body.routes = body.routes.map((r) => (r.rule === 'http' ? { ...r, rateLimits: [rl.id] } : r));
  }
  if (i.grpcWeb === true)
    body.routes = body.routes.map((r) => (r.rule === 'grpc' ? { ...r, grpcWeb: true } : r));
  // The compiler's own hash, so the version is the one `bulkhead render` would give this snapshot.
  return { ...body, version: contentHash(body) };
}
