// Shape checks the data plane runs on every snapshot before building anything from it. The
// compiler is trusted to produce sensible values, but a snapshot also arrives from files and over
// the network, so a wrong type or a dangling cluster reference must be a refusal (NACK), never a
// crash or a half-applied config. Returns the first problem as `<field.path>: <message>`.

import { SNAPSHOT_API, type PoolSnapshot } from './snapshot.ts';
import { checkAuth, checkListenerTls, checkUpstreamTls, type Check } from './snapshot-validate-edge.ts';

const RETRY_ON = new Set([
  'connect-failure',
  'refused-stream',
  'reset',
  'unavailable',
  '502',
  '503',
  '504',
  'gateway-error',
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'internal',
]);
const ALGORITHMS = new Set(['PeakEWMA', 'LeastRequest', 'RoundRobin', 'ConsistentHash']);
const PATH_TYPES = new Set(['Exact', 'PathPrefix', 'RegularExpression']);

class Problem extends Error {}

const check: Check = (ok, path, message) => {
  if (!ok) throw new Problem(`${path}: ${message}`);
};

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Problem(`${path}: must be an object`);
  return v as Record<string, unknown>;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new Problem(`${path}: must be an array`);
  return v;
}
function num(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
    throw new Problem(`${path}: must be a number in [${min}, ${max}]`);
  return v;
}
function str(v: unknown, path: string, nonEmpty = true): string {
  if (typeof v !== 'string' || (nonEmpty && v === ''))
    throw new Problem(`${path}: must be a${nonEmpty ? ' non-empty' : ''} string`);
  return v;
}

function checkTop(s: Record<string, unknown>): void {
  if (s.apiVersion !== SNAPSHOT_API) throw new Problem(`apiVersion: must be ${SNAPSHOT_API}`);
  str(s.version, 'version');
  const pool = obj(s.pool, 'pool');
  str(pool.namespace, 'pool.namespace');
  str(pool.name, 'pool.name');
  if (s.workers !== 'auto') num(s.workers, 'workers', 1, 1024);
  const l = obj(s.listener, 'listener');
  num(l.port, 'listener.port', 0, 65535);
  num(l.adminPort, 'listener.adminPort', 0, 65535);
  num(l.maxHeaderBytes, 'listener.maxHeaderBytes', 1024, 1 << 20);
  num(l.backlog, 'listener.backlog', 1);
  num(l.keepAliveTimeoutMs, 'listener.keepAliveTimeoutMs');
  num(l.maxRequestsPerConnection, 'listener.maxRequestsPerConnection');
  num(l.requestHeaderTimeoutMs, 'listener.requestHeaderTimeoutMs');
  check(
    l.mergeSlashes === undefined || typeof l.mergeSlashes === 'boolean',
    'listener.mergeSlashes',
    'must be a boolean',
  );
  checkListenerTls(l.tls ?? null, check);
  const u = obj(s.upstream, 'upstream');
  num(u.maxIdlePerEndpoint, 'upstream.maxIdlePerEndpoint', 1);
  num(u.idleTimeoutMs, 'upstream.idleTimeoutMs', 1);
  num(u.maxRequestsPerConnection, 'upstream.maxRequestsPerConnection');
  const w = obj(s.websocket, 'websocket');
  if (typeof w.enabled !== 'boolean') throw new Problem('websocket.enabled: must be a boolean');
  if (typeof w.http2 !== 'boolean') throw new Problem('websocket.http2: must be a boolean');
  for (const k of ['idleTimeoutMs', 'maxConnectionDurationMs', 'maxConnections', 'drainPeriodMs'])
    num(w[k], `websocket.${k}`);
  const o = obj(s.overload, 'overload');
  num(o.maxConcurrentRequests, 'overload.maxConcurrentRequests', 1);
  num(o.maxEventLoopDelayMs, 'overload.maxEventLoopDelayMs', 1);
  const a = obj(s.accessLog, 'accessLog');
  if (typeof a.enabled !== 'boolean') throw new Problem('accessLog.enabled: must be a boolean');
  num(a.sampleRate, 'accessLog.sampleRate', 0, 1);
}

function checkClusters(s: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  arr(s.clusters, 'clusters').forEach((c, i) => {
    const p = `clusters[${i}]`;
    const cl = obj(c, p);
    const name = str(cl.name, `${p}.name`);
    if (names.has(name)) throw new Problem(`${p}.name: duplicate cluster ${name}`);
    names.add(name);
    if (cl.protocol !== 'HTTP1' && cl.protocol !== 'H2C')
      throw new Problem(`${p}.protocol: must be HTTP1 or H2C`);
    const lb = obj(cl.loadBalancer, `${p}.loadBalancer`);
    if (!ALGORITHMS.has(lb.algorithm as string))
      throw new Problem(`${p}.loadBalancer.algorithm: unknown ${String(lb.algorithm)}`);
    obj(lb.consistentHash, `${p}.loadBalancer.consistentHash`);
    const hc = obj(cl.healthCheck, `${p}.healthCheck`);
    if (hc.active !== null) {
      const act = obj(hc.active, `${p}.healthCheck.active`);
      str(act.path, `${p}.healthCheck.active.path`);
      num(act.intervalMs, `${p}.healthCheck.active.intervalMs`, 1);
      num(act.timeoutMs, `${p}.healthCheck.active.timeoutMs`, 1);
      // absent in snapshots from compilers before gRPC health checks: the same as null
      if (act.grpc !== undefined && act.grpc !== null) {
        str(
          obj(act.grpc, `${p}.healthCheck.active.grpc`).service,
          `${p}.healthCheck.active.grpc.service`,
          false,
        );
        if (cl.protocol !== 'H2C')
          throw new Problem(`${p}.healthCheck.active.grpc: gRPC health checks need an H2C cluster`);
      }
    }
    if (hc.passive !== null) obj(hc.passive, `${p}.healthCheck.passive`);
    checkUpstreamTls(cl.tls ?? null, `${p}.tls`, check);
    arr(cl.endpoints, `${p}.endpoints`).forEach((e, j) => {
      const ep = obj(e, `${p}.endpoints[${j}]`);
      str(ep.address, `${p}.endpoints[${j}].address`);
      num(ep.port, `${p}.endpoints[${j}].port`, 1, 65535);
    });
  });
  return names;
}

function checkRoutes(s: Record<string, unknown>, clusters: Set<string>): void {
  const ids = new Set<string>();
  arr(s.routes, 'routes').forEach((r, i) => {
    const p = `routes[${i}]`;
    const rt = obj(r, p);
    const id = str(rt.id, `${p}.id`);
    if (ids.has(id)) throw new Problem(`${p}.id: duplicate route id ${id}`);
    ids.add(id);
    arr(rt.hostnames, `${p}.hostnames`).forEach((h, j) => str(h, `${p}.hostnames[${j}]`));
    const m = obj(rt.match, `${p}.match`);
    if (m.path !== null) {
      const path = obj(m.path, `${p}.match.path`);
      if (!PATH_TYPES.has(path.type as string))
        throw new Problem(`${p}.match.path.type: unknown ${String(path.type)}`);
      str(path.value, `${p}.match.path.value`);
    }
    arr(m.headers, `${p}.match.headers`);
    arr(m.cookies, `${p}.match.cookies`);
    arr(m.queryParams, `${p}.match.queryParams`);
    const backends = arr(rt.backends, `${p}.backends`);
    backends.forEach((b, j) => {
      const be = obj(b, `${p}.backends[${j}]`);
      const c = str(be.cluster, `${p}.backends[${j}].cluster`);
      if (!clusters.has(c)) throw new Problem(`${p}.backends[${j}].cluster: unknown cluster ${c}`);
      num(be.weight, `${p}.backends[${j}].weight`, 1);
    });
    if (rt.directResponse !== null) {
      const d = obj(rt.directResponse, `${p}.directResponse`);
      num(d.status, `${p}.directResponse.status`, 200, 599);
      str(d.reason, `${p}.directResponse.reason`);
    } else if (backends.length === 0) throw new Problem(`${p}.backends: empty without a directResponse`);
    if (rt.cors !== undefined && rt.cors !== null) {
      const c = obj(rt.cors, `${p}.cors`);
      for (const k of ['allowOrigins', 'allowMethods', 'allowHeaders', 'exposeHeaders'])
        arr(c[k], `${p}.cors.${k}`).forEach((v, j) => str(v, `${p}.cors.${k}[${j}]`));
      num(c.maxAgeSeconds, `${p}.cors.maxAgeSeconds`, -1);
    }
    if (rt.grpcWeb !== undefined && typeof rt.grpcWeb !== 'boolean')
      throw new Problem(`${p}.grpcWeb: must be a boolean`);
    const t = obj(rt.timeouts, `${p}.timeouts`);
    num(t.connectMs, `${p}.timeouts.connectMs`, 1);
    for (const k of ['readMs', 'sendMs', 'requestMs']) num(t[k], `${p}.timeouts.${k}`);
    const re = obj(rt.retries, `${p}.retries`);
    num(re.attempts, `${p}.retries.attempts`, 0, 10);
    arr(re.on, `${p}.retries.on`).forEach((c, j) => {
      if (!RETRY_ON.has(c as string))
        throw new Problem(`${p}.retries.on[${j}]: unknown condition ${String(c)}`);
    });
    num(re.perTryTimeoutMs, `${p}.retries.perTryTimeoutMs`);
    num(re.budgetPercent, `${p}.retries.budgetPercent`, 0, 100);
    num(re.minRetriesPerSecond, `${p}.retries.minRetriesPerSecond`);
    const ws = obj(rt.websocket, `${p}.websocket`);
    num(ws.idleTimeoutMs, `${p}.websocket.idleTimeoutMs`);
    num(ws.maxConnectionDurationMs, `${p}.websocket.maxConnectionDurationMs`);
    if (rt.rewrite !== null) obj(rt.rewrite, `${p}.rewrite`);
    if (rt.sessionAffinity !== null) obj(rt.sessionAffinity, `${p}.sessionAffinity`);
    checkAuth(rt.auth ?? null, `${p}.auth`, check);
  });
}

/** null when the snapshot has the right shape, else `<field.path>: <message>` */
export function checkSnapshotShape(s: unknown): string | null {
  try {
    const top = obj(s, 'snapshot');
    checkTop(top);
    checkRoutes(top, checkClusters(top));
    arr(top.rateLimits, 'rateLimits');
    return null;
  } catch (err) {
    if (err instanceof Problem) return err.message;
    throw err;
  }
}

export type { PoolSnapshot };
