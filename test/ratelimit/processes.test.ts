// Rate limits across real `bulkhead dataplane` processes: two processes reading the Redis URL from
// `--secrets` share one Global limit (the pool total is exact), and a replica with two worker
// processes (node:cluster) divides a Local budget by its workers and hands `--secrets` to each.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RateLimitIR } from '../../src/ir/snapshot.ts';
import {
  closeServer,
  deadPort,
  delay,
  httpBackend,
  request,
  waitDataplaneReady,
} from '../dataplane/fixtures.ts';
import { limit, limitedSnapshot } from './fixtures.ts';
import { secretsDir, startRedis } from './redis-server.ts';

const HOUR = 3_600_000;

interface Proc {
  child: ChildProcess;
  port: number;
  adminPort: number;
}

async function dataplane(snapshotFile: string, secrets: string, workers: number): Promise<Proc> {
  const [port, adminPort] = [await deadPort(), await deadPort()];
  const child = spawn(
    process.execPath,
    [
      'bin/bulkhead.mjs',
      'dataplane',
      '--snapshot',
      snapshotFile,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--host',
      '127.0.0.1',
      '--workers',
      String(workers),
      '--secrets',
      secrets,
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await waitDataplaneReady(adminPort, child);
  return { child, port, adminPort };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGINT');
  await exited;
}

/** `n` requests, each on a new connection (so node:cluster spreads them over workers), round robin over ports. */
async function spread(ports: number[], n: number, path = '/'): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await request(ports[i % ports.length]!, { path });
    out[r.status] = (out[r.status] ?? 0) + 1;
  }
  return out;
}

async function connected(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await request(port, { path: '/other' })).headers['ratelimit'] !== undefined) return;
    await delay(50);
  }
  throw new Error('redis not connected');
}

const globalRule = (id: string, n: number): RateLimitIR =>
  limit(id, n, HOUR, {
    mode: 'Global',
    global: {
      redisSecretRef: { namespace: 'team', name: 'ratelimit-redis', key: 'url' },
      timeoutMs: 200,
      failureMode: 'Closed',
    },
  });

test('two dataplane processes and a two-worker replica: Global totals exact, Local divided by workers', async () => {
  const redis = await startRedis();
  const dir = secretsDir({ 'team/ratelimit-redis/url': redis.url });
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const procs: Proc[] = [];
  try {
    const N = 30;
    const file = join(dir.dir, 'snapshot.json');
    writeFileSync(
      file,
      JSON.stringify(
        limitedSnapshot(be.port, [globalRule('team/g/total', N), globalRule('team/probe/other', 1_000_000)], {
          main: ['team/g/total'],
          other: ['team/probe/other'],
        }),
      ),
    );
    procs.push(await dataplane(file, dir.dir, 1), await dataplane(file, dir.dir, 1));
    for (const p of procs) await connected(p.port);
    const global = await spread(
      procs.map((p) => p.port),
      2 * N,
    );
    assert.is(global[200], N, `two processes, one Global budget: ${JSON.stringify(global)}`);
    for (const p of procs.splice(0)) await stop(p);

    // one replica, two workers: a Local PerReplica budget of N is N/2 per worker process
    const localFile = join(dir.dir, 'local.json');
    writeFileSync(
      localFile,
      JSON.stringify(
        limitedSnapshot(
          be.port,
          [limit('team/l/replica', N, HOUR), globalRule('team/probe/other', 1_000_000)],
          {
            main: ['team/l/replica'],
            other: ['team/probe/other'],
          },
        ),
      ),
    );
    const replica = await dataplane(localFile, dir.dir, 2);
    procs.push(replica);
    // every worker read the Redis URL through --secrets: the Global probe answers on both
    for (let i = 0; i < 6; i++) await connected(replica.port);
    const local = await spread([replica.port], 2 * N);
    assert.ok(
      (local[200] ?? 0) >= N - 2 && (local[200] ?? 0) <= N + 2,
      `two workers share one replica budget of ${N}: ${JSON.stringify(local)}`,
    );
  } finally {
    for (const p of procs) await stop(p);
    await closeServer(be);
    await redis.stop();
    dir.remove();
  }
});

test.run();
