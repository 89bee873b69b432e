// /config on the admin port: loopback peers only unless an admin token is configured (then a
// bearer token from anywhere), and secret-looking values redacted in what it returns.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configAccess, redactSecrets, REDACTED } from '../../src/dataplane/admin-config.ts';
import { startDataplane } from '../../src/dataplane/index.ts';
import { LogSink, cluster, route, snapshot } from '../dataplane/fixtures.ts';

test('access: loopback by default; a bearer token opens it; a wrong token never does', () => {
  assert.ok(configAccess('127.0.0.1', undefined, null).ok);
  assert.ok(configAccess('::1', undefined, null).ok);
  assert.ok(configAccess('::ffff:127.0.0.1', undefined, null).ok);
  const remote = configAccess('10.1.2.3', undefined, null);
  assert.equal([remote.ok, !remote.ok && remote.status], [false, 403]);
  assert.ok(configAccess('10.1.2.3', 'Bearer t0ken', 't0ken').ok);
  const wrong = configAccess('10.1.2.3', 'Bearer nope', 't0ken');
  assert.equal([wrong.ok, !wrong.ok && wrong.status], [false, 401]);
  // a wrong token is refused even from loopback (it says someone has the wrong one)
  assert.not.ok(configAccess('127.0.0.1', 'Bearer nope', 't0ken').ok);
  const none = configAccess('10.1.2.3', undefined, 't0ken');
  assert.equal([none.ok, !none.ok && none.status], [false, 403]);
});

test('redaction: secret-named fields and credential header matches; refs and ordinary values stay', () => {
  const out = redactSecrets({
    rateLimits: [
      { redisSecretRef: { name: 'redis', key: 'password', namespace: 'ns' }, password: 'hunter2' },
    ],
    routes: [
      {
        match: {
          headers: [
            { name: 'authorization', type: 'Exact', value: 'Bearer s3cret' },
            { name: 'x-canary', type: 'Exact', value: 'yes' },
          ],
        },
        auth: { jwt: { clientSecret: 'abc', issuer: 'https://id' } },
      },
    ],
  }) as any;
  assert.equal(out.rateLimits[0].redisSecretRef, { name: 'redis', key: 'password', namespace: 'ns' });
  assert.is(out.rateLimits[0].password, REDACTED);
  assert.is(out.routes[0].match.headers[0].value, REDACTED);
  assert.is(out.routes[0].match.headers[1].value, 'yes');
  assert.is(out.routes[0].auth.jwt.clientSecret, REDACTED);
  assert.is(out.routes[0].auth.jwt.issuer, 'https://id');
});

test('the admin port: /config redacted for loopback, token-checked when a token is set', async () => {
  const s = snapshot({
    routes: [
      route('team/web/main', 'team/web:80', {
        match: { headers: [{ name: 'authorization', type: 'Exact', value: 'Bearer s3cret' }] },
      }),
    ],
    clusters: [cluster('team/web:80', [1])],
  });
  const dp = await startDataplane({
    snapshot: s,
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    workers: 1,
    logStream: new LogSink(),
    adminToken: 't0ken',
  });
  try {
    const url = `http://127.0.0.1:${dp.adminPort}/config`;
    const plain = await fetch(url);
    assert.is(plain.status, 200, 'loopback without a token');
    const body = await plain.text();
    assert.ok(!body.includes('s3cret'), 'the header value is redacted');
    assert.ok(body.includes(REDACTED));
    assert.is((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status, 401);
    assert.is((await fetch(url, { headers: { authorization: 'Bearer t0ken' } })).status, 200);
  } finally {
    await dp.close();
  }
});

test.run();
