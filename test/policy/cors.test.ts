// CORS per rule on a real data plane with real HTTP/1.1 (node:http, fetch) and h2c clients:
// preflights answered by the gateway for exact and wildcard-subdomain origins (never forwarded),
// a refused origin gets no CORS headers, Allow-Origin / Expose-Headers / credentials on actual
// responses, a backend's own CORS headers replaced by the rule's, the gateway's own error answers
// carrying them too, and a rule without cors left alone.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import type { CorsIR } from '../../src/ir/snapshot.ts';
import { CorsPolicy } from '../../src/dataplane/policy/cors.ts';
import {
  cluster,
  closeServer,
  deadPort,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';

const CORS: CorsIR = {
  allowOrigins: ['https://shop.example.com', 'https://*.example.com', 'http://localhost:3000'],
  allowMethods: ['GET', 'POST'],
  allowHeaders: ['content-type', 'x-grpc-web'],
  exposeHeaders: ['grpc-status', 'grpc-message'],
  maxAgeSeconds: 600,
  allowCredentials: true,
};

test('origin matching: exact, wildcard subdomain (any depth, not the apex), scheme and port', () => {
  const p = new CorsPolicy(CORS);
  const yes = [
    'https://shop.example.com',
    'https://SHOP.example.com',
    'https://a.example.com',
    'https://a.b.example.com',
    'http://localhost:3000',
  ];
  const no = [
    'https://example.com',
    'http://a.example.com',
    'https://a.example.com:8443',
    'https://a.example.com.evil.org',
    'https://evilexample.com',
    'https://a_b.example.com',
    'http://localhost:3001',
    'null',
  ];
  for (const o of yes) assert.ok(p.allows(o), o);
  for (const o of no) assert.not.ok(p.allows(o), o);
  const any = new CorsPolicy({ ...CORS, allowOrigins: ['*'], allowCredentials: false });
  assert.ok(any.allows('https://anything.org'));
});

async function world() {
  let hits = 0;
  const be = await httpBackend((req, res) => {
    hits++;
    req.resume();
    // a backend with its own (too open) CORS opinion
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('x-backend', 'yes');
    res.end(req.method);
  });
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/web/down', 'team/down:80', {
          cors: CORS,
          match: { path: { type: 'PathPrefix', value: '/down' } },
        }),
        route('team/web/plain', 'team/web:80', { match: { path: { type: 'PathPrefix', value: '/plain' } } }),
        route('team/web/api', 'team/web:80', { cors: CORS }),
      ],
      clusters: [cluster('team/web:80', [be.port]), cluster('team/down:80', [await deadPort()])],
    }),
  );
  return {
    dp,
    hits: () => hits,
    close: async () => {
      await dp.close();
      await closeServer(be);
    },
  };
}

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  path: '/api/cart',
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type',
  },
});

test('preflight over HTTP/1.1: allowed origins answered by the gateway, refused ones without CORS headers', async () => {
  const w = await world();
  try {
    for (const origin of ['https://shop.example.com', 'https://m.example.com']) {
      const r = await request(w.dp.port, preflight(origin));
      assert.is(r.status, 204, origin);
      assert.is(r.headers['access-control-allow-origin'], origin);
      assert.is(r.headers['access-control-allow-methods'], 'GET, POST');
      assert.is(r.headers['access-control-allow-headers'], 'content-type, x-grpc-web');
      assert.is(r.headers['access-control-max-age'], '600');
      assert.is(r.headers['access-control-allow-credentials'], 'true');
      assert.match(String(r.headers.vary), /origin/i);
      assert.is(r.headers['x-backend'], undefined, 'answered by the gateway');
    }
    const refused = await request(w.dp.port, preflight('https://evil.org'));
    assert.is(refused.status, 204);
    for (const h of Object.keys(refused.headers)) assert.not.ok(h.startsWith('access-control-'), h);
    assert.is(w.hits(), 0, 'no preflight reaches the backend');
    // a plain OPTIONS (no Access-Control-Request-Method) is not a preflight: it is proxied
    const plainOptions = await request(w.dp.port, {
      method: 'OPTIONS',
      path: '/api',
      headers: { origin: 'https://a.example.com' },
    });
    assert.is(plainOptions.body, 'OPTIONS');
    assert.is(w.hits(), 1);
  } finally {
    await w.close();
  }
});

test('actual responses: the rule owns the CORS headers; refused origins and no-cors rules untouched', async () => {
  const w = await world();
  try {
    const ok = await fetch(`http://127.0.0.1:${w.dp.port}/api/cart`, {
      headers: { origin: 'https://a.example.com' },
    });
    assert.is(await ok.text(), 'GET');
    assert.is(
      ok.headers.get('access-control-allow-origin'),
      'https://a.example.com',
      'the backend`s * is replaced',
    );
    assert.is(ok.headers.get('access-control-expose-headers'), 'grpc-status, grpc-message');
    assert.is(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.is(ok.headers.get('x-backend'), 'yes');

    const refused = await request(w.dp.port, { path: '/api/cart', headers: { origin: 'https://evil.org' } });
    assert.is(refused.body, 'GET');
    for (const h of Object.keys(refused.headers))
      assert.not.ok(h.startsWith('access-control-'), `${h} for a refused origin`);

    const noOrigin = await request(w.dp.port, { path: '/api/cart' });
    assert.is(
      noOrigin.headers['access-control-allow-origin'],
      undefined,
      'not a CORS request: headers of the rule stay off',
    );

    const plain = await request(w.dp.port, { path: '/plain', headers: { origin: 'https://evil.org' } });
    assert.is(
      plain.headers['access-control-allow-origin'],
      '*',
      'a rule without cors passes the backend`s own',
    );

    // the gateway's own answer (no endpoint reachable) carries the CORS headers too
    const down = await request(w.dp.port, { path: '/down', headers: { origin: 'https://shop.example.com' } });
    assert.is(down.status, 502);
    assert.is(down.headers['access-control-allow-origin'], 'https://shop.example.com');
  } finally {
    await w.close();
  }
});

test('over h2c: preflight and actual response', async () => {
  const w = await world();
  const session = http2.connect(`http://127.0.0.1:${w.dp.port}`);
  const ask = (h: http2.OutgoingHttpHeaders) =>
    new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = session.request(h);
      s.on('response', (head) => {
        s.resume();
        s.on('end', () => resolve(head));
      });
      s.on('error', reject);
      s.end();
    });
  try {
    const pre = await ask({
      ':method': 'OPTIONS',
      ':path': '/api/x',
      origin: 'https://b.example.com',
      'access-control-request-method': 'GET',
    });
    assert.is(pre[':status'], 204);
    assert.is(pre['access-control-allow-origin'], 'https://b.example.com');
    const actual = await ask({ ':method': 'GET', ':path': '/api/x', origin: 'https://b.example.com' });
    assert.is(actual[':status'], 200);
    assert.is(actual['access-control-allow-origin'], 'https://b.example.com');
    assert.is(actual['access-control-expose-headers'], 'grpc-status, grpc-message');
    assert.is(w.hits(), 1);
  } finally {
    session.close();
    await w.close();
  }
});

test('origin * without credentials is answered as *', async () => {
  const be = await httpBackend((_req, res) => res.end('x'));
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/web/api', 'team/web:80', {
          cors: { ...CORS, allowOrigins: ['*'], allowCredentials: false },
        }),
      ],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const pre = await request(dp.port, preflight('https://whoever.org'));
    assert.is(pre.headers['access-control-allow-origin'], '*');
    assert.is(pre.headers['access-control-allow-credentials'], undefined);
    const r = await request(dp.port, { path: '/', headers: { origin: 'https://whoever.org' } });
    assert.is(r.headers['access-control-allow-origin'], '*');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
