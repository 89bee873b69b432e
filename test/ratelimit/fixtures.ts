// Rate-limit test fixtures: RateLimitIR builders, a data plane with one echo backend and rate-limited
// routes, and a loop that sends N requests and tallies statuses.

import http from 'node:http';
import type { RateLimitIR, RateLimitKeyPart, RouteIR } from '../../src/ir/snapshot.ts';
import { cluster, closeServer, httpBackend, LogSink, route, snapshot } from '../dataplane/fixtures.ts';
import { startDataplane, type Dataplane } from '../../src/dataplane/index.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

export function limit(
  id: string,
  requests: number,
  periodMs: number,
  over: Partial<Omit<RateLimitIR, 'id' | 'limit'>> & { burst?: number } = {},
): RateLimitIR {
  const [namespace = 'team', name = 'p'] = id.split('/');
  const { burst, ...rest } = over;
  return {
    id,
    policy: { namespace, name },
    mode: 'Local',
    shadow: false,
    responseHeaders: true,
    trustedHops: 0,
    match: null,
    key: [] as RateLimitKeyPart[],
    limit: { requests, periodMs, burst: burst ?? 0 },
    cost: 1,
    global: null,
    ...rest,
  };
}

/** A snapshot with routes `/` (rule `main`) and `/other` (rule `other`), limits attached by rule. */
export function limitedSnapshot(
  port: number,
  limits: RateLimitIR[],
  byRule: Record<string, string[]>,
  extra: Partial<RouteIR> = {},
): PoolSnapshot {
  const s = snapshot({
    routes: [
      route('team/web/other/0', 'team/web:80', {
        rule: 'other',
        match: { path: { type: 'PathPrefix', value: '/other' } },
        rateLimits: byRule.other ?? [],
        ...extra,
      }),
      route('team/web/main/0', 'team/web:80', { rule: 'main', rateLimits: byRule.main ?? [], ...extra }),
    ],
    clusters: [cluster('team/web:80', [port])],
  });
  return { ...s, rateLimits: [...limits].sort((a, b) => (a.id < b.id ? -1 : 1)) };
}

/** A single-process data plane on loopback, with Secrets from `secretsDir`. */
export async function startLimited(
  s: PoolSnapshot,
  secretsDir?: string,
): Promise<Dataplane & { logs: LogSink }> {
  const logs = new LogSink();
  const dp = await startDataplane({
    snapshot: s,
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    workers: 1,
    logStream: logs,
    secretsDir,
  });
  return Object.assign(dp, { logs });
}

export async function world(
  limits: RateLimitIR[],
  byRule: Record<string, string[]>,
  opts: { secretsDir?: string; planes?: number } = {},
) {
  let hits = 0;
  const be = await httpBackend((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const snap = limitedSnapshot(be.port, limits, byRule);
  const planes: (Dataplane & { logs: LogSink })[] = [];
  for (let i = 0; i < (opts.planes ?? 1); i++) planes.push(await startLimited(snap, opts.secretsDir));
  const dp = planes[0]!;
  return {
    dp,
    planes,
    be,
    hits: () => hits,
    close: async () => {
      for (const p of planes) await p.close();
      await closeServer(be);
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** One request on a keep-alive agent: status and headers. */
export function hit(
  port: number,
  path = '/',
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `n` requests one after another; statuses tallied. */
export async function burst(
  port: number,
  n: number,
  path = '/',
  headers: http.OutgoingHttpHeaders = {},
): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await hit(port, path, headers);
    out[r.status] = (out[r.status] ?? 0) + 1;
  }
  return out;
}
