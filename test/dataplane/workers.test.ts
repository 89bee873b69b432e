// Multi-process pools: a node:cluster primary with 2 workers sharing the data port, snapshots
// distributed over IPC, metrics aggregated on the primary's admin port, drain stopping the workers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import cluster from 'node:cluster';
import { startDataplane } from '../../src/dataplane/index.ts';
import {
  cluster as clusterIR,
  closeServer,
  delay,
  echoName,
  httpBackend,
  request,
  route,
  snapshot,
} from './fixtures.ts';

test('2 workers: shared port, snapshot pushed to all, aggregated metrics, drain stops them', async () => {
  const a = await httpBackend(echoName('a'));
  const b = await httpBackend(echoName('b'));
  const clusters = [clusterIR('team/a:80', [a.port]), clusterIR('team/b:80', [b.port])];
  const s1 = snapshot({
    routes: [route('team/web/main', 'team/a:80')],
    clusters,
    over: { accessLog: { enabled: false } },
  });
  const s2 = snapshot({
    routes: [route('team/web/main', 'team/b:80')],
    clusters,
    over: { accessLog: { enabled: false } },
  });
  const dp = await startDataplane({ snapshot: s1, port: 0, adminPort: 0, host: '127.0.0.1', workers: 2 });
  try {
    assert.is(Object.keys(cluster.workers ?? {}).length, 2);
    for (let i = 0; i < 6; i++) assert.is((await request(dp.port, { path: '/' })).body, 'a');
    assert.ok(dp.apply(s2).ok);
    let body = '';
    for (let i = 0; i < 50 && body !== 'b'; i++) {
      await delay(20);
      body = (await request(dp.port, { path: '/' })).body;
    }
    assert.is(body, 'b', 'the new snapshot reached the workers');
    // both workers have to agree: 10 requests in a row all see it
    for (let i = 0; i < 10; i++) assert.is((await request(dp.port, { path: '/' })).body, 'b');
    const bad = dp.apply({ ...s2, version: 'sha256:bad', routes: [route('team/web/main', 'team/none:80')] });
    assert.is(bad.ok, false);
    const metrics = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    const m =
      /bulkhead_requests_total\{pool="edge\/pool",route="team\/web\/main",cluster="team\/a:80",code_class="2xx",grpc_status="",product_line="test"\} (\d+)/.exec(
        metrics,
      );
    assert.is(Number(m?.[1]), 6, 'counts summed across workers');
    assert.is((await fetch(`http://127.0.0.1:${dp.adminPort}/readyz`)).status, 200);
    await dp.drain();
    assert.is(Object.keys(cluster.workers ?? {}).length, 0, 'workers exited');
  } finally {
    await dp.close();
    await closeServer(a);
    await closeServer(b);
  }
});

test.run();
