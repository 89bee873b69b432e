// Timeouts (read → 504, overall request → 504), connect failures (502) and retries: only when configured,
// only on the named conditions, only for replayable bodies, bounded by the retry budget.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import {
  cluster,
  closeServer,
  deadPort,
  echoName,
  httpBackend,
  listen,
  request,
  route,
  snapshot,
  startProxy,
} from './fixtures.ts';

test('read timeout → 504 upstream-timeout; overall request timeout → 504 request-timeout', async () => {
  const be = await httpBackend((req, res) => {
    if (req.url === '/slow-head') return; // never answers
    res.writeHead(200);
    res.write('start');
    // body stalls
  });
  const slowHead = route('team/web/read', 'team/web:80', {
    match: { path: { type: 'PathPrefix', value: '/slow-head' } },
    timeouts: { readMs: 150 },
  });
  const overall = route('team/web/req', 'team/web:80', {
    match: { path: { type: 'PathPrefix', value: '/slow-body' } },
    timeouts: { readMs: 5000, requestMs: 150 },
  });
  const dp = await startProxy(
    snapshot({ routes: [slowHead, overall], clusters: [cluster('team/web:80', [be.port])] }),
  );
  try {
    const a = await request(dp.port, { path: '/slow-head' });
    assert.is(a.status, 504);
    assert.is(a.headers['x-bulkhead-reason'], 'upstream-timeout');
    // head already sent when the request timeout fires: the connection is cut, not answered twice
    const b = await request(dp.port, { path: '/slow-body' }).then(
      (r) => r.status,
      (e: Error) => e.message,
    );
    assert.match(String(b), /aborted|socket hang up|ECONNRESET/);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('connection refused → 502 upstream-connect-failure', async () => {
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80', { timeouts: { connectMs: 100 } })],
      clusters: [cluster('team/web:80', [await deadPort()])],
    }),
  );
  try {
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 502);
    assert.is(r.headers['x-bulkhead-reason'], 'upstream-connect-failure');
  } finally {
    await dp.close();
  }
});

test('retries on connect-failure move to another endpoint; off by default', async () => {
  const live = await httpBackend(echoName('live'));
  const dead = await deadPort();
  const clusters = [cluster('team/web:80', [dead, live.port], { loadBalancer: { algorithm: 'RoundRobin' } })];
  const withRetry = route('team/web/retry', 'team/web:80', {
    match: { path: { type: 'PathPrefix', value: '/r' } },
    retries: { attempts: 2, on: ['connect-failure'], minRetriesPerSecond: 100 },
  });
  const noRetry = route('team/web/plain', 'team/web:80');
  const dp = await startProxy(snapshot({ routes: [withRetry, noRetry], clusters }));
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(dp.port, { path: '/r/' + i })).status);
    assert.equal(statuses, [200, 200, 200, 200, 200, 200], 'every request succeeded thanks to a retry');
    const plain: number[] = [];
    for (let i = 0; i < 6; i++) plain.push((await request(dp.port, { path: '/p/' + i })).status);
    assert.ok(plain.includes(502), 'without retries the dead endpoint shows');
    const metrics = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(
      metrics,
      /bulkhead_retries_total\{pool="edge\/pool",route="team\/web\/retry",outcome="started",product_line="test"\} [1-9]/,
    );
  } finally {
    await dp.close();
    await closeServer(live);
  }
});

test('retry on 503 responses with a small buffered body replayed', async () => {
  let calls = 0;
  const bodies: string[] = [];
  const be = await httpBackend((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(b);
      res.statusCode = ++calls === 1 ? 503 : 200;
      res.end('call' + calls);
    });
  });
  const r = route('team/web/retry', 'team/web:80', {
    retries: { attempts: 1, on: ['503'], minRetriesPerSecond: 100 },
  });
  const dp = await startProxy(snapshot({ routes: [r], clusters: [cluster('team/web:80', [be.port])] }));
  try {
    const res = await request(dp.port, {
      path: '/',
      method: 'POST',
      body: 'payload',
      headers: { 'content-length': '7' },
    });
    assert.is(res.status, 200);
    assert.is(res.body, 'call2');
    assert.equal(bodies, ['payload', 'payload']);
    // a chunked body (no content-length) is streamed to the first try and replayed from a copy
    calls = 0;
    bodies.length = 0;
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: dp.port, path: '/', method: 'POST', agent: false },
        (r) => {
          let b = '';
          r.on('data', (c) => (b += c));
          r.on('end', () => resolve(`${r.statusCode}:${b}`));
        },
      );
      req.on('error', reject);
      req.write('part1-');
      setTimeout(() => req.end('part2'), 20);
    });
    assert.is(chunked, '200:call2');
    assert.equal(bodies, ['part1-part2', 'part1-part2']);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('retry budget: with no floor and no budget, a retry is refused with 503 retry-budget-exhausted', async () => {
  const live = await httpBackend(echoName('live'));
  const dead = await deadPort();
  const r = route('team/web/retry', 'team/web:80', {
    retries: { attempts: 3, on: ['connect-failure'], budgetPercent: 0, minRetriesPerSecond: 0 },
  });
  const dp = await startProxy(
    snapshot({ routes: [r], clusters: [cluster('team/web:80', [dead, live.port])] }),
  );
  try {
    const statuses = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const res = await request(dp.port, { path: '/' });
      statuses.add(`${res.status}:${res.headers['x-bulkhead-reason'] ?? ''}`);
    }
    assert.ok(statuses.has('503:retry-budget-exhausted'), [...statuses].join(' '));
    const metrics = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(metrics, /bulkhead_retries_total\{[^}]*outcome="budget"[^}]*\} [1-9]/);
  } finally {
    await dp.close();
    await closeServer(live);
  }
});

test('an upstream that resets the connection → 502 upstream-reset', async () => {
  const rude = await listen(net.createServer((s) => s.once('data', () => s.resetAndDestroy())));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [rude.port])],
    }),
  );
  try {
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 502);
    assert.is(r.headers['x-bulkhead-reason'], 'upstream-reset');
  } finally {
    await dp.close();
    await closeServer(rude);
  }
});

test('send timeout: a request body that stalls → 504 send-timeout', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end('got it'));
  });
  const r = route('team/web/main', 'team/web:80', { timeouts: { sendMs: 200 } });
  const dp = await startProxy(snapshot({ routes: [r], clusters: [cluster('team/web:80', [be.port])] }));
  try {
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(dp.port, '127.0.0.1', () =>
        sock.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789'),
      );
      let out = '';
      sock.on('data', (c) => {
        out += c.toString();
        if (out.includes('\r\n\r\n')) sock.destroy();
      });
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 504/);
    assert.match(raw, /x-bulkhead-reason: send-timeout/);
    // a body that keeps flowing is not cut
    const ok = await request(dp.port, { path: '/', method: 'POST', body: 'x'.repeat(1000) });
    assert.is(ok.body, 'got it');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
