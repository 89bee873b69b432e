// SnapshotStore: valid snapshots swap in, invalid ones (bad shape, dangling cluster, bad regex) are
// refused and counted while the last good one keeps serving, endpoint state survives swaps, and
// health checkers of removed clusters stop. Also /readyz and /config on the admin port.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SnapshotStore } from '../../src/dataplane/snapshot-store.ts';
import { DataplaneMetrics } from '../../src/dataplane/metrics.ts';
import {
  cluster,
  closeServer,
  echoName,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from './fixtures.ts';

test('invalid snapshots are refused while the last good one keeps serving', async () => {
  const a = await httpBackend(echoName('a'));
  const good = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [a.port])],
  });
  const dp = await startProxy(good);
  try {
    assert.is((await request(dp.port, { path: '/' })).body, 'a');
    const dangling = snapshot({
      routes: [route('team/web/main', 'team/missing:80')],
      clusters: [cluster('team/web:80', [a.port])],
    });
    const r1 = dp.apply(dangling);
    assert.is(r1.ok, false);
    assert.match(
      r1.ok ? '' : r1.error,
      /routes\[0\]\.backends\[0\]\.cluster: unknown cluster team\/missing:80/,
    );
    const badRegex = snapshot({
      routes: [
        route('team/web/main', 'team/web:80', {
          match: { path: { type: 'RegularExpression', value: '(unclosed' } },
        }),
      ],
      clusters: [cluster('team/web:80', [a.port])],
    });
    const r2 = dp.apply(badRegex);
    assert.is(r2.ok, false);
    const wrongType = {
      ...good,
      version: 'sha256:x',
      listener: { ...good.listener, port: 'eighty' },
    } as unknown as typeof good;
    const r3 = dp.apply(wrongType);
    assert.is(r3.ok, false);
    assert.match(r3.ok ? '' : r3.error, /listener\.port/);
    assert.is(dp.apply(null as unknown as typeof good).ok, false);
    const otherPool = snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [a.port])],
      over: { pool: { name: 'someone-else' } },
    });
    const r4 = dp.apply(otherPool);
    assert.match(r4.ok ? '' : r4.error, /snapshot is for edge\/someone-else/);
    assert.is((await request(dp.port, { path: '/' })).body, 'a', 'the good snapshot still serves');
    const cfg = (await (await fetch(`http://127.0.0.1:${dp.adminPort}/config`)).json()) as {
      version: string;
    };
    assert.is(cfg.version, good.version);
    const metrics = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(metrics, /bulkhead_snapshots_rejected_total\{pool="edge\/pool",product_line="test"\} 5/);
    assert.ok(
      dp.logs.records().some((r) => r.msg === 'snapshot refused'),
      'refusals are logged',
    );
  } finally {
    await dp.close();
    await closeServer(a);
  }
});

test('a valid swap changes routing for new requests; re-applying the same version is a no-op', async () => {
  const a = await httpBackend(echoName('a'));
  const b = await httpBackend(echoName('b'));
  const s1 = snapshot({
    routes: [route('team/web/main', 'team/a:80')],
    clusters: [cluster('team/a:80', [a.port]), cluster('team/b:80', [b.port])],
  });
  const s2 = snapshot({
    routes: [route('team/web/main', 'team/b:80')],
    clusters: [cluster('team/a:80', [a.port]), cluster('team/b:80', [b.port])],
  });
  const dp = await startProxy(s1);
  try {
    let swaps = 0;
    dp.store.on('swap', () => swaps++);
    assert.is((await request(dp.port, { path: '/' })).body, 'a');
    assert.ok(dp.apply(s2).ok);
    assert.is((await request(dp.port, { path: '/' })).body, 'b');
    assert.ok(dp.apply(s2).ok);
    assert.is(swaps, 1);
    assert.is(dp.store.current().version, s2.version);
    const info = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(
      info,
      new RegExp(
        `bulkhead_snapshot_info\\{pool="edge/pool",version="${s2.version}",product_line="test"\\} 1`,
      ),
    );
    assert.not.match(info, new RegExp(`version="${s1.version}"`));
  } finally {
    await dp.close();
    await closeServer(a);
    await closeServer(b);
  }
});

test('endpoint states carry over by key; active health checkers of removed clusters stop', () => {
  const store = new SnapshotStore({ metrics: new DataplaneMetrics(false) });
  const hc = {
    active: {
      path: '/healthz',
      intervalMs: 60_000,
      timeoutMs: 1000,
      healthyThreshold: 1,
      unhealthyThreshold: 1,
      expectedStatuses: [200],
    },
    passive: null,
  };
  const s1 = snapshot({
    routes: [route('team/web/main', 'team/a:80')],
    clusters: [
      cluster('team/a:80', [1111, 2222], { healthCheck: hc }),
      cluster('team/b:80', [3333], { healthCheck: hc }),
    ],
  });
  assert.ok(store.apply(s1).ok);
  const ep = store.current().clusters.get('team/a:80')!.endpoints.get('127.0.0.1:1111')!;
  ep.inflight = 7;
  const s2 = snapshot({
    routes: [route('team/web/main', 'team/a:80')],
    clusters: [cluster('team/a:80', [1111], { healthCheck: hc })],
  });
  const health = (store as unknown as { health: Map<string, { active: { stop(): void } | null }> }).health;
  const bChecker = health.get('team/b:80')!.active!;
  let stopped = false;
  const stop = bChecker.stop.bind(bChecker);
  bChecker.stop = () => {
    stopped = true;
    stop();
  };
  const aChecker = health.get('team/a:80')!.active;
  assert.ok(store.apply(s2).ok);
  assert.is(
    store.current().clusters.get('team/a:80')!.endpoints.get('127.0.0.1:1111'),
    ep,
    'same state object',
  );
  assert.is(ep.inflight, 7);
  assert.ok(stopped, "the removed cluster's checker stopped");
  assert.is(health.get('team/a:80')!.active, aChecker, 'an unchanged checker is kept, not restarted');
  assert.is(health.has('team/b:80'), false);
  store.close();
});

test('/readyz: 200 with a snapshot, 503 once draining; /healthz stays 200', async () => {
  const a = await httpBackend(echoName('a'));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/a:80')],
      clusters: [cluster('team/a:80', [a.port])],
      over: { websocket: { drainPeriodMs: 0 } },
    }),
    { drainGraceMs: 2000 },
  );
  try {
    assert.is((await fetch(`http://127.0.0.1:${dp.adminPort}/readyz`)).status, 200);
    assert.is((await fetch(`http://127.0.0.1:${dp.adminPort}/healthz`)).status, 200);
    const held = await httpBackend(() => undefined);
    const adminPort = dp.adminPort;
    const s2 = snapshot({
      routes: [route('team/web/main', 'team/h:80')],
      clusters: [cluster('team/h:80', [held.port])],
      over: { websocket: { drainPeriodMs: 0 } },
    });
    dp.apply(s2);
    const inflight = request(dp.port, { path: '/' }).catch(() => null);
    await new Promise((r) => setTimeout(r, 50));
    const draining = dp.drain();
    await new Promise((r) => setTimeout(r, 20));
    assert.is((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status, 503);
    assert.is((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status, 200);
    await draining;
    await inflight;
    await closeServer(held);
  } finally {
    await dp.close();
    await closeServer(a);
  }
});

test.run();
