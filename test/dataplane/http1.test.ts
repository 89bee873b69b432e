// HTTP/1.1 proxying: forwarding, hop-by-hop removal, X-Forwarded-*, request ids, rewrites, limits
// (431, 414), h2c upgrade refusal, no-route and directResponse answers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { cluster, closeServer, httpBackend, request, route, snapshot, startProxy } from './fixtures.ts';

test('forwards requests with X-Forwarded-* and without hop-by-hop headers', async () => {
  let seen: IncomingHttpHeaders = {};
  let seenUrl = '';
  const be = await httpBackend((req, res) => {
    seen = req.headers;
    seenUrl = req.url!;
    res.setHeader('x-hop', 'drop-me');
    res.setHeader('connection', 'x-hop');
    res.setHeader('keep-alive', 'timeout=5');
    res.setHeader('proxy-authenticate', 'Basic');
    res.setHeader('x-kept', 'yes');
    res.end('hello');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const r = await request(dp.port, {
      path: '/a/b?x=1',
      headers: {
        host: 'Shop.Example.com:8080',
        connection: 'x-custom, keep-alive',
        'x-custom': 'secret',
        'keep-alive': 'timeout=1',
        'proxy-authorization': 'Basic abc',
        te: 'gzip',
        'x-forwarded-for': '10.0.0.1',
        'x-other': 'kept',
      },
    });
    assert.is(r.status, 200);
    assert.is(r.body, 'hello');
    assert.is(seenUrl, '/a/b?x=1');
    assert.is(seen['x-custom'], undefined, 'headers listed in Connection are removed');
    assert.is(seen['keep-alive'], undefined);
    assert.is(seen['proxy-authorization'], undefined);
    assert.is(seen.te, undefined, 'TE other than trailers is removed');
    assert.is(seen['x-other'], 'kept');
    assert.is(seen['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.is(seen['x-forwarded-proto'], 'http');
    assert.is(seen['x-forwarded-host'], 'Shop.Example.com:8080');
    assert.is(seen.host, 'Shop.Example.com:8080');
    assert.ok(
      typeof seen['x-request-id'] === 'string' && seen['x-request-id'].length > 8,
      'a request id is generated',
    );
    assert.is(r.headers['x-hop'], undefined, 'response headers listed in Connection are removed');
    assert.is(r.headers['proxy-authenticate'], undefined);
    assert.is(r.headers['x-kept'], 'yes');
    const r2 = await request(dp.port, { path: '/', headers: { 'x-request-id': 'client-id-1' } });
    assert.is(r2.status, 200);
    assert.is(seen['x-request-id'], 'client-id-1', "the client's request id is kept");
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('path prefix and host rewrites, sticky Set-Cookie', async () => {
  let seenUrl = '';
  let seenHost = '';
  const be = await httpBackend((req, res) => {
    seenUrl = req.url!;
    seenHost = req.headers.host!;
    res.end('ok');
  });
  const r1 = route('team/web/api', 'team/web:80', {
    match: { path: { type: 'PathPrefix', value: '/api' } },
    rewrite: { replacePrefix: '/v2', hostname: 'internal.svc' },
    sessionAffinity: { cookie: { name: 'bh-split', ttlMs: 60_000 } },
  });
  const dp = await startProxy(snapshot({ routes: [r1], clusters: [cluster('team/web:80', [be.port])] }));
  try {
    const r = await request(dp.port, { path: '/api/users?id=3' });
    assert.is(r.status, 200);
    assert.is(seenUrl, '/v2/users?id=3');
    assert.is(seenHost, 'internal.svc');
    const cookie = r.headers['set-cookie'];
    assert.ok(
      Array.isArray(cookie) && cookie.some((c) => c.startsWith('bh-split=')),
      'sticky pick sets its cookie',
    );
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('no route → 404, directResponse → its status and reason', async () => {
  const direct = route('team/web/gone', null, {
    match: { path: { type: 'PathPrefix', value: '/gone' } },
    directResponse: { status: 503, reason: 'backend-not-found' },
  });
  const only = route('team/web/only', null, {
    hostnames: ['only.example.com'],
    directResponse: { status: 500, reason: 'x' },
  });
  const dp = await startProxy(snapshot({ routes: [direct, only], clusters: [] }));
  try {
    const a = await request(dp.port, { path: '/gone/x' });
    assert.is(a.status, 503);
    assert.is(a.headers['x-bulkhead-reason'], 'backend-not-found');
    const b = await request(dp.port, { path: '/else', headers: { host: 'other.example.com' } });
    assert.is(b.status, 404);
    assert.is(b.headers['x-bulkhead-reason'], 'no-route');
  } finally {
    await dp.close();
  }
});

test('431 for oversized headers, 414 for a long URI', async () => {
  const be = await httpBackend((_req, res) => res.end('ok'));
  const s = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [be.port])],
    over: { listener: { maxHeaderBytes: 4096 } },
  });
  const dp = await startProxy(s);
  try {
    const big = await request(dp.port, { path: '/', headers: { 'x-big': 'a'.repeat(6000) } });
    assert.is(big.status, 431);
    const small = await request(dp.port, { path: '/', headers: { 'x-big': 'a'.repeat(1000) } });
    assert.is(small.status, 200);
    // the URI limit (8 KiB) is below the header limit here, so the limit must come from the proxy
    const s2 = snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { maxHeaderBytes: 65536 } },
    });
    assert.ok(dp.apply(s2).ok);
    const long = await request(dp.port, { path: '/' + 'x'.repeat(9000) });
    assert.is(long.status, 414);
    assert.is(long.headers['x-bulkhead-reason'], 'uri-too-long');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('Upgrade: h2c is answered as plain HTTP/1.1, never forwarded as an upgrade', async () => {
  let seenUpgrade: string | undefined = 'unset';
  const be = await httpBackend((req, res) => {
    seenUpgrade = req.headers.upgrade;
    res.end('plain');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(dp.port, '127.0.0.1', () => {
        sock.write(
          'GET /x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
        );
      });
      let out = '';
      sock.on('data', (c) => (out += c.toString()));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 200/);
    assert.match(raw, /plain$/);
    assert.is.not(raw.includes('101'), true);
    assert.is(seenUpgrade, undefined, 'the upgrade header is not forwarded');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('requestHeaderTimeout: a client that never finishes its headers gets 408 and is cut', async () => {
  const be = await httpBackend((_req, res) => res.end('ok'));
  const s = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [be.port])],
    over: { listener: { requestHeaderTimeoutMs: 300 } },
  });
  const dp = await startProxy(s);
  try {
    const started = Date.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(dp.port, '127.0.0.1', () =>
        sock.write('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '),
      );
      let out = '';
      sock.on('data', (c) => (out += c.toString()));
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
      setTimeout(() => sock.destroy(), 5000).unref();
    });
    assert.match(raw, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 4000);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
