// Load shedding: maxConcurrentRequests → 503 + Retry-After (gRPC: RESOURCE_EXHAUSTED), event-loop
// lag above maxEventLoopDelayMs → 503 + Retry-After, and the admin port answering throughout.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import type { ServerResponse } from 'node:http';
import {
  cluster,
  closeServer,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from './fixtures.ts';

test('over maxConcurrentRequests: 503 + Retry-After, gRPC gets RESOURCE_EXHAUSTED, admin keeps answering', async () => {
  const held: ServerResponse[] = [];
  const be = await httpBackend((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { overload: { maxConcurrentRequests: 2 } },
    }),
  );
  try {
    const inflight = [request(dp.port, { path: '/hold' }), request(dp.port, { path: '/hold' })];
    for (let i = 0; i < 100 && held.length < 2; i++) await delay(10);
    const shed = await request(dp.port, { path: '/other' });
    assert.is(shed.status, 503);
    assert.is(shed.headers['retry-after'], '1');
    assert.is(shed.headers['x-bulkhead-reason'], 'overloaded');

    const session = http2.connect(`http://127.0.0.1:${dp.port}`);
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const req = session.request({
        ':method': 'POST',
        ':path': '/svc/M',
        'content-type': 'application/grpc',
      });
      req.on('response', resolve);
      req.on('error', reject);
      req.resume();
      req.end();
    });
    session.close();
    assert.is(h[':status'], 200);
    assert.is(h['grpc-status'], '8');

    const health = await fetch(`http://127.0.0.1:${dp.adminPort}/healthz`);
    assert.is(health.status, 200);
    for (const r of held) r.end('released');
    const done = await Promise.all(inflight);
    assert.equal(
      done.map((r) => r.status),
      [200, 200],
    );
    const ok = await request(dp.port, { path: '/after' });
    assert.is(ok.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(
      metrics,
      /bulkhead_shed_requests_total\{pool="edge\/pool",reason="overloaded",product_line="test"\} 2/,
    );
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('event-loop lag above maxEventLoopDelayMs sheds with 503 + Retry-After', async () => {
  const be = await httpBackend((_req, res) => res.end('ok'));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { overload: { maxEventLoopDelayMs: 50 } },
    }),
  );
  try {
    assert.is((await request(dp.port, { path: '/' })).status, 200);
    // block the loop, then let the sampler see it
    const until = Date.now() + 400;
    while (Date.now() < until);
    let shed = null;
    for (let i = 0; i < 40 && shed === null; i++) {
      await delay(30);
      const r = await request(dp.port, { path: '/' });
      if (r.status === 503) shed = r;
    }
    assert.ok(shed !== null, 'a request was shed while the loop lagged');
    assert.is(shed!.headers['retry-after'], '1');
    assert.is(shed!.headers['x-bulkhead-reason'], 'event-loop-lag');
    // once the lag is gone, requests pass again
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      await delay(50);
      recovered = (await request(dp.port, { path: '/' })).status === 200;
    }
    assert.ok(recovered);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
