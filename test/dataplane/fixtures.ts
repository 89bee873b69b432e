// Snapshot builders and loopback helpers for the data-plane tests. Defaults mirror the API's
// (connect 1 s, read 3 s, send 3 s, keep-alive 75 s, ...); tests override what they exercise.

import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Writable } from 'node:stream';
import { SNAPSHOT_API, type ClusterIR, type PoolSnapshot, type RouteIR } from '../../src/ir/snapshot.ts';
import { startDataplane, type Dataplane } from '../../src/dataplane/index.ts';

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

function merge<T>(base: T, over: DeepPartial<T> | undefined): T {
  if (over === undefined) return base;
  const out = { ...base } as Record<string, unknown>;
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      b !== null &&
      typeof b === 'object' &&
      !Array.isArray(b)
        ? merge(b, v as never)
        : v;
  }
  return out as T;
}

export function route(id: string, cluster: string | null, over?: DeepPartial<RouteIR>): RouteIR {
  const [namespace = 'team', name = 'r', rule = 'rule'] = id.split('/');
  const base: RouteIR = {
    id,
    route: { namespace, name },
    rule,
    hostnames: [],
    match: {
      path: { type: 'PathPrefix', value: '/' },
      method: null,
      headers: [],
      cookies: [],
      queryParams: [],
    },
    backends: cluster === null ? [] : [{ cluster, weight: 1 }],
    directResponse: null,
    sessionAffinity: null,
    rewrite: null,
    timeouts: { connectMs: 1000, readMs: 3000, sendMs: 3000, requestMs: 0 },
    retries: {
      attempts: 0,
      on: ['connect-failure', 'refused-stream', 'reset', 'unavailable'],
      perTryTimeoutMs: 0,
      budgetPercent: 20,
      minRetriesPerSecond: 3,
    },
    websocket: { idleTimeoutMs: 0, maxConnectionDurationMs: 0 },
    rateLimits: [],
    auth: null,
  };
  return merge(base, over);
}

export function cluster(name: string, ports: number[], over?: DeepPartial<ClusterIR>): ClusterIR {
  const base: ClusterIR = {
    name,
    service: { namespace: 'team', name: name.replace(/[^a-z0-9-]/g, '-') },
    port: 80,
    protocol: 'HTTP1',
    loadBalancer: {
      algorithm: 'RoundRobin',
      consistentHash: { header: null, cookie: null, clientIP: false },
    },
    healthCheck: { active: null, passive: null },
    endpoints: ports.map((port) => ({ address: '127.0.0.1', port, zone: null })),
    tls: null,
  };
  return merge(base, over);
}

export interface SnapshotInput {
  routes: RouteIR[];
  clusters: ClusterIR[];
  over?: DeepPartial<Omit<PoolSnapshot, 'routes' | 'clusters'>>;
}

/** A complete snapshot; `version` is the hash of its content like the compiler's. */
export function snapshot(input: SnapshotInput): PoolSnapshot {
  const base: Omit<PoolSnapshot, 'version'> = {
    apiVersion: SNAPSHOT_API,
    pool: { namespace: 'edge', name: 'pool', productLine: 'test' },
    workers: 1,
    listener: {
      port: 0,
      adminPort: 0,
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
    overload: { maxConcurrentRequests: 10_000, maxEventLoopDelayMs: 10_000 },
    accessLog: { enabled: true, sampleRate: 1 },
    routes: input.routes,
    clusters: [...input.clusters].sort((a, b) => a.name.localeCompare(b.name)),
    rateLimits: [],
  };
  const body = merge(base, input.over as DeepPartial<typeof base>);
  const version = 'sha256:' + createHash('sha256').update(JSON.stringify(body)).digest('hex');
  return { ...body, version };
}

/** Collects log lines (JSON) instead of writing them to stdout. */
export class LogSink extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l !== '') this.lines.push(l);
    cb();
  }
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

export async function startProxy(
  s: PoolSnapshot,
  extra: { logStream?: NodeJS.WritableStream; drainGraceMs?: number; secretsDir?: string } = {},
): Promise<Dataplane & { logs: LogSink }> {
  const logs = new LogSink();
  const dp = await startDataplane({
    snapshot: s,
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    workers: 1,
    logStream: extra.logStream ?? logs,
    drainGraceMs: extra.drainGraceMs,
    ...(extra.secretsDir !== undefined ? { secretsDir: extra.secretsDir } : {}),
  });
  return Object.assign(dp, { logs });
}

export async function listen<S extends net.Server>(server: S): Promise<S & { port: number }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(server, { port: (server.address() as net.AddressInfo).port });
}

export function closeServer(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

/** An HTTP/1.1 backend; the handler sees what the proxy forwarded. */
export async function httpBackend(handler: http.RequestListener): Promise<http.Server & { port: number }> {
  return listen(http.createServer({ keepAliveTimeout: 5000 }, handler));
}

/** A backend that answers 200 with its own name (to see which endpoint served). */
export function echoName(name: string): http.RequestListener {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('x-backend', name);
      res.end(name);
    });
  };
}

/** A port nothing listens on (bound then closed). */
export async function deadPort(): Promise<number> {
  const s = await listen(net.createServer());
  const p = s.port;
  await closeServer(s);
  return p;
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  trailers: NodeJS.Dict<string>;
}

/** One HTTP/1.1 request with node:http (no keep-alive agent unless given). */
export function request(
  port: number,
  opts: http.RequestOptions & { body?: string | Buffer } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          trailers: res.trailers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Until a data-plane process's /readyz answers 200. Fails when `child` exits first or after `ms`
 * (generous: several processes loading TypeScript at once on a busy 2-core machine); `detail()`
 * adds context (e.g. the child's stderr) to the error.
 */
export async function waitDataplaneReady(
  adminPort: number,
  child: { exitCode: number | null } | null = null,
  ms = 30_000,
  detail: () => string = () => '',
): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await request(adminPort, { path: '/readyz' }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    if (child !== null && child.exitCode !== null)
      throw new Error(`the data plane exited (${child.exitCode}) before it was ready ${detail()}`);
    if (Date.now() > until) throw new Error(`the data plane did not become ready ${detail()}`);
    await delay(100);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
