// Global rate limits against a real redis-server: two data planes sharing one limit hold the pool
// total (Local mode admits twice as much, Local with a split budget about the same); Redis stopped
// mid-run (failureMode Open lets traffic through, Closed answers 503, neither waits longer than the
// timeout) and limited again once Redis is back; a paused Redis (SIGSTOP) hits the timeout; a
// changed URL in the Secret file moves the client to another Redis.

import { test } from 'uvu';
import { Redis } from 'ioredis';
import * as assert from 'uvu/assert';
import type { RateLimitIR } from '../../src/ir/snapshot.ts';
import { delay, request } from '../dataplane/fixtures.ts';
import { burst, hit, limit, world } from './fixtures.ts';
import { secretsDir, startRedis, type RedisServer } from './redis-server.ts';

const HOUR = 3_600_000;
const SECRET = 'team/ratelimit-redis/url';

function globalLimit(
  id: string,
  requests: number,
  over: Partial<RateLimitIR> = {},
  failureMode: 'Open' | 'Closed' = 'Open',
  // generous: exact counts must not turn into fail-open answers when the machine is busy
  timeoutMs = 1000,
): RateLimitIR {
  return limit(id, requests, HOUR, {
    mode: 'Global',
    global: {
      redisSecretRef: { namespace: 'team', name: 'ratelimit-redis', key: 'url' },
      timeoutMs,
      failureMode,
    },
    ...over,
  });
}

/** `n` requests spread over the planes, round robin. */
async function spread(ports: number[], n: number): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await hit(ports[i % ports.length]!);
    out[r.status] = (out[r.status] ?? 0) + 1;
  }
  return out;
}

/** Until the client is connected: a probe rule on /other (same Secret) reports its counter. */
async function connected(port: number): Promise<void> {
  await waitFor(
    'redis connected',
    async () => (await hit(port, '/other')).headers['ratelimit'] !== undefined,
  );
}
const probe = (): RateLimitIR => globalLimit('team/probe/other', 1_000_000);

async function waitFor(what: string, cond: () => Promise<boolean>, ms = 8000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

let redis: RedisServer;
let secrets: ReturnType<typeof secretsDir>;

test.before(async () => {
  redis = await startRedis();
  secrets = secretsDir({ [SECRET]: redis.url + '\n' });
});
test.after(async () => {
  await redis.stop();
  secrets.remove();
});

test('two data planes sharing a Global limit of N admit N; Local admits 2N; Local split admits N', async () => {
  const N = 40;
  const g = await world(
    [globalLimit('team/g/shared', N), probe()],
    { main: ['team/g/shared'], other: ['team/probe/other'] },
    { secretsDir: secrets.dir, planes: 2 },
  );
  try {
    // every plane's Redis client must be up: a decision before that fails open (by design)
    for (const p of g.planes) await connected(p.port);
    const got = await spread(
      g.planes.map((p) => p.port),
      2 * N + 20,
    );
    assert.is(got[200], N, JSON.stringify(got));
    const m = await request(g.dp.adminPort, { path: '/metrics' });
    assert.match(m.body, /bulkhead_ratelimit_redis_duration_seconds_count\{[^}]*\} [1-9]/);
  } finally {
    await g.close();
  }
  const local = await world([limit('team/l/each', N, HOUR)], { main: ['team/l/each'] }, { planes: 2 });
  try {
    assert.is(
      (
        await spread(
          local.planes.map((p) => p.port),
          2 * N + 20,
        )
      )[200],
      2 * N,
    );
  } finally {
    await local.close();
  }
  // SplitAcrossReplicas: the compiler divides by the ready replicas (2) before the snapshot
  const split = await world([limit('team/l/split', N / 2, HOUR)], { main: ['team/l/split'] }, { planes: 2 });
  try {
    assert.is(
      (
        await spread(
          split.planes.map((p) => p.port),
          2 * N + 20,
        )
      )[200],
      N,
    );
  } finally {
    await split.close();
  }
});

test('429 from a Global limit carries the same headers as a Local one', async () => {
  const g = await world(
    [globalLimit('team/g/hdr', 2), probe()],
    { main: ['team/g/hdr'], other: ['team/probe/other'] },
    { secretsDir: secrets.dir },
  );
  try {
    await connected(g.dp.port);
    const a = await hit(g.dp.port);
    assert.is(a.status, 200);
    assert.match(String(a.headers['ratelimit']), /^"team\/g\/hdr";r=1;t=\d+$/);
    // a Redis that forgot the script (restart, failover, SCRIPT FLUSH) answers NOSCRIPT: EVAL follows
    const admin = new Redis(redis.url);
    await admin.script('FLUSH');
    await admin.quit();
    const b = await hit(g.dp.port);
    assert.is(b.status, 200);
    assert.match(
      String(b.headers['ratelimit']),
      /^"team\/g\/hdr";r=0;t=\d+$/,
      'decided by Redis after NOSCRIPT',
    );
    const r = await hit(g.dp.port);
    assert.is(r.status, 429);
    assert.is(r.headers['ratelimit-policy'], '"team/g/hdr";q=2;w=3600');
    assert.ok(Number(r.headers['retry-after']) > 1000, String(r.headers['retry-after']));
  } finally {
    await g.close();
  }
});

test('Redis down: Open lets traffic through, Closed answers 503, within the timeout; limited again when Redis is back', async () => {
  const own = await startRedis();
  const dir = secretsDir({ [SECRET]: own.url });
  const g = await world(
    [globalLimit('team/o/open', 3, {}, 'Open', 50), globalLimit('team/c/closed', 3, {}, 'Closed', 50)],
    { main: ['team/o/open'], other: ['team/c/closed'] },
    { secretsDir: dir.dir },
  );
  try {
    await waitFor('redis connected', async () => (await hit(g.dp.port)).headers['ratelimit'] !== undefined);
    assert.equal(await burst(g.dp.port, 4), { 200: 2, 429: 2 });
    await own.stop();
    await delay(50);
    const t0 = performance.now();
    assert.equal(await burst(g.dp.port, 5), { 200: 5 }, 'Open: through');
    const closed = await hit(g.dp.port, '/other');
    assert.is(closed.status, 503);
    assert.is(closed.headers['x-bulkhead-reason'], 'ratelimit-unavailable');
    assert.ok(performance.now() - t0 < 2000, 'no request waited on a reconnect (6 requests)');
    const restarted = await startRedis(own.port);
    try {
      await waitFor('limited again', async () => (await hit(g.dp.port)).status === 429);
      const m = await request(g.dp.adminPort, { path: '/metrics' });
      assert.match(m.body, /outcome="failure-open"[^\n]* [1-9]/);
      assert.match(m.body, /outcome="failure-closed"[^\n]* [1-9]/);
    } finally {
      await restarted.stop();
    }
  } finally {
    await g.close();
    dir.remove();
  }
});

test('Redis paused (SIGSTOP): each decision gives up after global.timeout', async () => {
  const own = await startRedis();
  const dir = secretsDir({ [SECRET]: own.url });
  const g = await world(
    [globalLimit('team/o/open', 1000, {}, 'Open', 80), globalLimit('team/c/closed', 1000, {}, 'Closed', 80)],
    { main: ['team/o/open'], other: ['team/c/closed'] },
    { secretsDir: dir.dir },
  );
  try {
    await waitFor('redis connected', async () => (await hit(g.dp.port)).headers['ratelimit'] !== undefined);
    own.pause();
    let t0 = performance.now();
    const open = await hit(g.dp.port);
    const openMs = performance.now() - t0;
    assert.is(open.status, 200);
    assert.is(open.headers['ratelimit'], undefined, 'failure-open: no counter to report');
    assert.ok(openMs >= 70 && openMs < 1000, `open answered after ${openMs} ms`);
    t0 = performance.now();
    const closed = await hit(g.dp.port, '/other');
    const closedMs = performance.now() - t0;
    assert.is(closed.status, 503);
    assert.ok(closedMs >= 70 && closedMs < 1000, `closed answered after ${closedMs} ms`);
    own.resume();
    await waitFor('answers again', async () => (await hit(g.dp.port)).headers['ratelimit'] !== undefined);
    const m = await request(g.dp.adminPort, { path: '/metrics' });
    assert.match(m.body, /bulkhead_ratelimit_redis_errors_total\{[^}]*reason="timeout"[^}]*\} [1-9]/);
  } finally {
    own.resume();
    await g.close();
    await own.stop();
    dir.remove();
  }
});

test('a changed Redis URL in the Secret file moves the client to the new server', async () => {
  const a = await startRedis();
  const b = await startRedis();
  const dir = secretsDir({ [SECRET]: a.url });
  const g = await world(
    [globalLimit('team/g/moved', 2)],
    { main: ['team/g/moved'] },
    { secretsDir: dir.dir },
  );
  try {
    await waitFor('redis connected', async () => (await hit(g.dp.port)).headers['ratelimit'] !== undefined);
    assert.equal(await burst(g.dp.port, 2), { 200: 1, 429: 1 });
    dir.write(SECRET, b.url);
    // the file is polled every 2 s; the new server has fresh counters
    await waitFor(
      'moved to b',
      async () => {
        const r = await hit(g.dp.port);
        return r.status === 200 && r.headers['ratelimit'] !== undefined;
      },
      8000,
    );
    await a.stop();
    assert.is((await hit(g.dp.port)).status, 200);
    assert.is((await hit(g.dp.port)).status, 429, 'b counts');
  } finally {
    await g.close();
    await a.stop();
    await b.stop();
    dir.remove();
  }
});

test.run();
