// Metrics and access logs: the Prometheus families exist with their labels, connection gauges count
// by protocol, access log lines carry the request's facts, sampling and `enabled` are honoured.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
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

test('metrics: requests by route/cluster/class, durations, connections by protocol, snapshot info; product_line on every series', async () => {
  const be = await httpBackend((req, res) => {
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end('x');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  const agent = new http.Agent({ keepAlive: true });
  const session = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    await request(dp.port, { path: '/', agent });
    await request(dp.port, { path: '/missing', agent });
    await new Promise<void>((resolve) => {
      const r = session.request({ ':path': '/' });
      r.resume();
      r.on('end', resolve);
      r.end();
    });
    const text = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(
      text,
      /bulkhead_requests_total\{pool="edge\/pool",route="team\/web\/main",cluster="team\/web:80",code_class="2xx",grpc_status="",product_line="test"\} 2/,
    );
    assert.match(
      text,
      /bulkhead_requests_total\{pool="edge\/pool",route="team\/web\/main",cluster="team\/web:80",code_class="4xx",grpc_status="",product_line="test"\} 1/,
    );
    assert.match(
      text,
      /bulkhead_request_duration_seconds_count\{pool="edge\/pool",route="team\/web\/main",grpc_status="",product_line="test"\} 3/,
    );
    assert.match(
      text,
      /bulkhead_active_connections\{pool="edge\/pool",protocol="http1",product_line="test"\} 1/,
    );
    assert.match(
      text,
      /bulkhead_active_connections\{pool="edge\/pool",protocol="h2",product_line="test"\} 1/,
    );
    assert.match(text, /bulkhead_snapshots_applied_total\{pool="edge\/pool",product_line="test"\} 1/);
    assert.match(text, /bulkhead_event_loop_lag_seconds/);
    assert.match(text, /bulkhead_upstream_connect_errors_total/);
    assert.match(text, /bulkhead_websocket_connections_total/);
    // the examples' promise: every series carries the pool's productLine, for chargeback by product line
    const series = text.split('\n').filter((l) => l.startsWith('bulkhead_') && l.includes('{'));
    assert.ok(series.length > 10);
    for (const l of series) assert.match(l, /product_line="test"/);
  } finally {
    agent.destroy();
    session.destroy();
    await dp.close();
    await closeServer(be);
  }
});

test('access log: one JSON line per request with id, route, upstream, status, timings, bytes, protocol', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('0123456789'));
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    await request(dp.port, {
      path: '/logged?q=1',
      method: 'POST',
      body: 'abcde',
      headers: { 'x-request-id': 'rid-42' },
    });
    await delay(50);
    const rec = dp.logs.records().find((r) => r.msg === 'access')!;
    assert.ok(rec, 'an access record was written');
    assert.is(rec.requestId, 'rid-42');
    assert.is(rec.route, 'team/web/main');
    assert.is(rec.upstream, `127.0.0.1:${be.port}`);
    assert.is(rec.status, 200);
    assert.is(rec.protocol, 'http1');
    assert.is(rec.path, '/logged?q=1');
    assert.is(rec.bytesOut, 10);
    assert.is(rec.bytesIn, 5);
    assert.type(rec.durationMs, 'number');
    assert.type(rec.upstreamMs, 'number');
    assert.is(rec.grpcStatus, null, 'not a gRPC request');
    // answers the proxy makes itself are logged too
    const s2 = snapshot({
      routes: [route('team/web/main', 'team/web:80', { hostnames: ['only.example'] })],
      clusters: [cluster('team/web:80', [be.port])],
    });
    assert.ok(dp.apply(s2).ok);
    assert.is((await request(dp.port, { path: '/nowhere' })).status, 404);
    await delay(20);
    const miss = dp.logs.records().find((r) => r.msg === 'access' && r.path === '/nowhere')!;
    assert.is(miss.status, 404);
    assert.is(miss.reason, 'no-route');
    assert.is(miss.route, null);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('access log sampling: sampleRate 0 and enabled=false write nothing', async () => {
  const be = await httpBackend((_req, res) => res.end('x'));
  const base = {
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [be.port])],
  };
  const dp = await startProxy(snapshot({ ...base, over: { accessLog: { enabled: true, sampleRate: 0 } } }));
  try {
    for (let i = 0; i < 5; i++) await request(dp.port, { path: '/' });
    assert.ok(dp.apply(snapshot({ ...base, over: { accessLog: { enabled: false, sampleRate: 1 } } })).ok);
    for (let i = 0; i < 5; i++) await request(dp.port, { path: '/' });
    assert.ok(dp.apply(snapshot({ ...base, over: { accessLog: { enabled: true, sampleRate: 1 } } })).ok);
    await request(dp.port, { path: '/' });
    await delay(50);
    assert.is(dp.logs.records().filter((r) => r.msg === 'access').length, 1);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
