// External auth against a real local auth service: allow with copied headers (spoofed copies
// replaced), deny with the service's own status, headers and body, a timeout and a dead service with
// failureMode Open and Closed, the subrequest's headers, a bounded denial body and gRPC clients.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import type { ExternalAuthIR } from '../../src/ir/snapshot.ts';
import {
  closeServer,
  cluster,
  deadPort,
  httpBackend,
  listen,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';

let authSaw: IncomingHttpHeaders = {};
const authService = await listen(
  http.createServer((req, res) => {
    authSaw = req.headers;
    const cookie = req.headers.cookie ?? '';
    if (cookie.includes('session=good')) {
      res.writeHead(200, { 'x-user-id': 'u-1', 'x-internal': 'not-listed' });
      return res.end('ok');
    }
    if (cookie.includes('session=slow')) return void setTimeout(() => res.end('late'), 1000).unref();
    if (cookie.includes('session=huge')) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      return res.end(Buffer.alloc(200 * 1024, 'x'));
    }
    if (cookie.includes('session=expired')) {
      res.writeHead(302, { location: 'https://login.example.com/?next=/account' });
      return res.end();
    }
    res.writeHead(401, {
      'www-authenticate': 'Cookie realm="shop"',
      'x-deny-reason': 'no-session',
      'content-type': 'text/plain',
    });
    res.end('please log in\n');
  }),
);
const dead = await deadPort();

let hits = 0;
let seen: IncomingHttpHeaders = {};
const be = await httpBackend((req, res) => {
  hits++;
  seen = req.headers;
  req.resume();
  req.on('end', () => res.end('backend'));
});

function ext(path: string, over: Partial<ExternalAuthIR> = {}) {
  const name = path.slice(1);
  const ir: ExternalAuthIR = {
    failureMode: 'Closed',
    forwardHeaders: ['authorization', 'cookie'],
    responseHeaders: ['x-user-id'],
    timeoutMs: 200,
    url: `http://127.0.0.1:${authService.port}/verify`,
    ...over,
  };
  return route(`team/shop/${name}`, 'team/web:80', {
    match: { path: { type: 'PathPrefix', value: path } },
    auth: { jwt: null, external: ir },
  });
}

const dp = await startProxy(
  snapshot({
    routes: [
      ext('/account'),
      ext('/lenient', { failureMode: 'Open' }),
      ext('/gone-closed', { url: `http://127.0.0.1:${dead}/verify` }),
      ext('/gone-open', { url: `http://127.0.0.1:${dead}/verify`, failureMode: 'Open' }),
    ],
    clusters: [cluster('team/web:80', [be.port])],
  }),
);

const get = (path: string, headers: Record<string, string> = {}) => request(dp.port, { path, headers });

test('2xx allows: listed response headers go upstream and replace a spoofed copy; unlisted ones do not', async () => {
  const r = await get('/account/orders?page=2', {
    cookie: 'session=good',
    'x-user-id': 'admin',
    'x-secret': 's',
  });
  assert.is(r.status, 200);
  assert.is(seen['x-user-id'], 'u-1');
  assert.is(seen['x-internal'], undefined);
  assert.is(authSaw['x-original-uri'], '/account/orders?page=2');
  assert.is(authSaw['x-original-method'], 'GET');
  assert.is(authSaw.cookie, 'session=good');
  assert.is(authSaw['x-secret'], undefined, 'only the listed headers are forwarded');
});

test('a denial goes back as the service sent it (status, headers, body); nothing reaches the backend', async () => {
  const before = hits;
  const r = await get('/account', { cookie: 'session=none' });
  assert.is(r.status, 401);
  assert.is(r.body, 'please log in\n');
  assert.is(r.headers['www-authenticate'], 'Cookie realm="shop"');
  assert.is(r.headers['x-deny-reason'], 'no-session');
  const redirect = await get('/account', { cookie: 'session=expired' });
  assert.is(redirect.status, 302);
  assert.is(redirect.headers.location, 'https://login.example.com/?next=/account');
  const huge = await get('/account', { cookie: 'session=huge' });
  assert.is(huge.status, 403);
  assert.is(huge.body.length, 64 * 1024, 'the denial body is bounded');
  assert.is(hits, before);
});

test('timeout: Closed answers 503, Open lets the request through', async () => {
  const closed = await get('/account', { cookie: 'session=slow' });
  assert.is(closed.status, 503);
  assert.is(closed.headers['x-bulkhead-reason'], 'ext-auth-timeout');
  const open = await get('/lenient', { cookie: 'session=slow' });
  assert.is(open.status, 200);
});

test('an unreachable auth service: Closed answers 503, Open lets the request through', async () => {
  const closed = await get('/gone-closed');
  assert.is(closed.status, 503);
  assert.is(closed.headers['x-bulkhead-reason'], 'ext-auth-error');
  assert.is((await get('/gone-open', { 'x-user-id': 'admin' })).status, 200);
  assert.is(seen['x-user-id'], undefined, 'a spoofed listed header is stripped even when failing open');
});

test('gRPC clients get UNAUTHENTICATED for a 401 from the auth service', async () => {
  const s = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const st = s.request({
        ':method': 'POST',
        ':path': '/account/pkg.Svc/Call',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      st.on('response', resolve);
      st.on('error', reject);
      st.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.is(h['grpc-status'], '16');
  } finally {
    s.close();
  }
});

test('auth-service latency and decisions are measured', async () => {
  const m = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
  assert.match(
    m,
    /bulkhead_auth_service_duration_seconds_count\{[^}]*route="team\/shop\/account"[^}]*\} [1-9]/,
  );
  assert.match(
    m,
    /bulkhead_auth_decisions_total\{[^}]*kind="external",result="denied",reason="ext-auth-401"[^}]*\} [1-9]/,
  );
});

test('teardown', async () => {
  await dp.close();
  await closeServer(be);
  await closeServer(authService);
});

test.run();
