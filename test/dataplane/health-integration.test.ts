// The proxy feeds and obeys endpoint health: active checks take a failing endpoint out of rotation,
// passive outlier detection ejects an endpoint after its failures, and removing the active check
// from a cluster brings its endpoints back.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
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
} from './fixtures.ts';

test('active health check: an endpoint failing its probe gets no traffic; dropping the check restores it', async () => {
  const good = await httpBackend((_req, res) => res.end('good'));
  const sick = await httpBackend((req, res) => {
    res.statusCode = req.url === '/healthz' ? 500 : 200;
    res.end('sick');
  });
  const active = {
    path: '/healthz',
    intervalMs: 50,
    timeoutMs: 500,
    healthyThreshold: 1,
    unhealthyThreshold: 1,
    expectedStatuses: [200],
  };
  const ports = [good.port, sick.port];
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', ports, { healthCheck: { active } })],
    }),
  );
  try {
    await delay(300);
    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) bodies.add((await request(dp.port, { path: '/' })).body);
    assert.equal([...bodies], ['good']);
    assert.ok(
      dp.apply(
        snapshot({
          routes: [route('team/web/main', 'team/web:80')],
          clusters: [cluster('team/web:80', ports)],
        }),
      ).ok,
    );
    const after = new Set<string>();
    for (let i = 0; i < 10; i++) after.add((await request(dp.port, { path: '/' })).body);
    assert.equal([...after].sort(), ['good', 'sick'], 'without an active check both endpoints serve again');
  } finally {
    await dp.close();
    await closeServer(good);
    await closeServer(sick);
  }
});

test('passive outlier detection: connect failures eject the endpoint', async () => {
  const good = await httpBackend((_req, res) => res.end('good'));
  const passive = { consecutiveErrors: 1, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 };
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [await deadPort(), good.port], { healthCheck: { passive } })],
    }),
  );
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await request(dp.port, { path: '/' })).status);
    assert.ok(statuses.filter((s) => s === 502).length <= 1, statuses.join(','));
    assert.equal(statuses.slice(2), Array(8).fill(200));
  } finally {
    await dp.close();
    await closeServer(good);
  }
});

test.run();
