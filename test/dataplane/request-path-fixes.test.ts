// Review findings of the request-path issue, each shown on real processes and sockets:
// balancer seeds differ per process; `maxIdlePerEndpoint` caps idle connections, not concurrency;
// with worker processes an apply is acknowledged only after every worker serves the version.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startDataplane } from '../../src/dataplane/index.ts';
import {
  cluster,
  closeServer,
  deadPort,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
  waitDataplaneReady,
} from './fixtures.ts';

test('ten data-plane processes with one snapshot pick backends in different orders', async () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const backends = await Promise.all(names.map((n) => httpBackend((_q, res) => res.end(n))));
  const dir = mkdtempSync(join(tmpdir(), 'bh-seeds-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(
    file,
    JSON.stringify(
      snapshot({
        routes: [route('team/web/main', 'team/web:80')],
        clusters: [
          cluster(
            'team/web:80',
            backends.map((b) => b.port),
          ),
        ],
      }),
    ),
  );
  const children: ChildProcess[] = [];
  try {
    const ports = await Promise.all(
      Array.from({ length: 10 }, async () => [await deadPort(), await deadPort()]),
    );
    for (const [port, admin] of ports) {
      const args = [
        'bin/bulkhead.mjs',
        'dataplane',
        '--snapshot',
        file,
        '--port',
        String(port),
        '--admin-port',
        String(admin),
        '--host',
        '127.0.0.1',
        '--workers',
        '1',
      ];
      children.push(spawn(process.execPath, args, { stdio: 'ignore' }));
    }
    await Promise.all(ports.map(([, admin], i) => waitDataplaneReady(admin!, children[i]!, 120_000)));
    const firstPicks: string[] = [];
    for (const [port] of ports) firstPicks.push((await request(port!, { path: '/' })).body);
    // round robin starts at a seeded position: with one fixed seed every process starts at the same
    // backend; with per-process seeds ten processes over eight backends land on several
    assert.ok(new Set(firstPicks).size >= 3, `first picks: ${firstPicks.join(',')}`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(backends.map(closeServer));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('maxIdlePerEndpoint caps idle connections, never concurrency', async () => {
  const sockets = new Set<net.Socket>();
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let inflight = 0;
  let peak = 0;
  const be = await httpBackend((req, res) => {
    inflight++;
    peak = Math.max(peak, inflight);
    req.resume();
    void gate.then(() => {
      inflight--;
      res.end('ok');
    });
  });
  be.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { upstream: { maxIdlePerEndpoint: 4, idleTimeoutMs: 60_000, maxRequestsPerConnection: 0 } },
    }),
  );
  try {
    const all = Array.from({ length: 40 }, (_, i) => request(dp.port, { path: `/r${i}` }));
    for (let i = 0; i < 100 && peak < 40; i++) await delay(20);
    assert.is(peak, 40, 'all 40 requests reached the backend at once (no queue behind the idle cap)');
    release();
    const results = await Promise.all(all);
    assert.ok(results.every((r) => r.status === 200));
    await delay(200);
    assert.ok(sockets.size <= 4, `idle upstream connections kept: ${sockets.size} (cap 4)`);
    assert.ok(sockets.size >= 1, 'some stay for reuse');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('workers: 2 — applyAndWait resolves only once both workers serve the new version', async () => {
  const a = await httpBackend((_q, res) => res.end('v1'));
  const b = await httpBackend((_q, res) => res.end('v2'));
  const s1 = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [a.port])],
  });
  const dp = await startDataplane({ snapshot: s1, port: 0, adminPort: 0, host: '127.0.0.1', workers: 2 });
  try {
    const s2 = snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [b.port])],
      over: { accessLog: { enabled: false } },
    });
    const r = await dp.applyAndWait(s2);
    assert.ok(r.ok);
    // fresh connections are spread over both workers by the OS: every one must see v2 already
    const bodies = await Promise.all(
      Array.from({ length: 40 }, () => request(dp.port, { path: '/' }).then((x) => x.body)),
    );
    assert.equal([...new Set(bodies)], ['v2']);
  } finally {
    await dp.close();
    await closeServer(a);
    await closeServer(b);
  }
});

test.run();
