// Local rate limits on a real data plane: keys per header tenant, client IP (trusted hops, spoofed
// X-Forwarded-For, IPv6 /64), query parameter, path and route; burst and cost; shadow; several
// rules; RateLimit headers on 429 and on allowed answers; bounded key memory.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { burst, hit, limit, world } from './fixtures.ts';
import { delay, request } from '../dataplane/fixtures.ts';
import { LocalStoreLimits } from '../../src/dataplane/ratelimit/local-store.ts';

const HOUR = 3_600_000;

test('header key: two tenants each get their own budget; a request without the header is not counted', async () => {
  const w = await world([limit('team/p/tenant', 3, HOUR, { key: [{ type: 'Header', name: 'x-tenant' }] })], {
    main: ['team/p/tenant'],
  });
  try {
    assert.equal(await burst(w.dp.port, 5, '/', { 'x-tenant': 'a' }), { 200: 3, 429: 2 });
    assert.equal(await burst(w.dp.port, 4, '/', { 'x-tenant': 'b' }), { 200: 3, 429: 1 });
    assert.equal(await burst(w.dp.port, 5, '/'), { 200: 5 }, 'no tenant header: the rule does not apply');
  } finally {
    await w.close();
  }
});

test('429 carries Retry-After and RateLimit headers; allowed answers carry them with responseHeaders', async () => {
  const w = await world([limit('team/p/all', 2, 10_000, { burst: 1 })], { main: ['team/p/all'] });
  try {
    const first = await hit(w.dp.port);
    assert.is(first.status, 200);
    assert.is(first.headers['ratelimit-policy'], '"team/p/all";q=2;w=10');
    assert.match(String(first.headers['ratelimit']), /^"team\/p\/all";r=2;t=[1-5]$/);
    await hit(w.dp.port);
    await hit(w.dp.port);
    const limited = await hit(w.dp.port);
    assert.is(limited.status, 429);
    assert.is(limited.headers['x-bulkhead-reason'], 'rate-limited');
    const retry = Number(limited.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 5, `retry-after ${retry}`);
    assert.is(limited.headers['ratelimit-policy'], '"team/p/all";q=2;w=10');
    assert.is(limited.headers['ratelimit'], `"team/p/all";r=0;t=${retry}`);
    const other = await hit(w.dp.port, '/other');
    assert.is(other.status, 200, 'another rule of the route is not limited');
    assert.is(other.headers['ratelimit'], undefined);
    assert.is(w.hits(), 4);
  } finally {
    await w.close();
  }
});

test('burst: requests + burst at once, then the refill rate', async () => {
  // 10 per 2 s = one token every 200 ms, capacity 10 + 5
  const w = await world([limit('team/p/b', 10, 2000, { burst: 5, responseHeaders: false })], {
    main: ['team/p/b'],
  });
  try {
    const first = await burst(w.dp.port, 20);
    // 15 at once; a slow machine may see a token or two refill during the 20 requests
    assert.ok(first[200]! >= 15 && first[200]! <= 17, JSON.stringify(first));
    const r = await hit(w.dp.port);
    assert.is(r.status, 429);
    assert.is(r.headers['ratelimit'], '"team/p/b";r=0;t=1', 'limited answers always carry the headers');
    await new Promise((res) => setTimeout(res, 650)); // about 3 tokens back
    const after = await burst(w.dp.port, 8);
    assert.ok((after[200] ?? 0) >= 2 && (after[200] ?? 0) <= 5, JSON.stringify(after));
  } finally {
    await w.close();
  }
});

test('cost: each request takes `cost` tokens', async () => {
  const w = await world([limit('team/p/c', 10, HOUR, { cost: 4 })], { main: ['team/p/c'] });
  try {
    assert.equal(await burst(w.dp.port, 4), { 200: 2, 429: 2 });
  } finally {
    await w.close();
  }
});

test('client IP: trusted hops pick the right X-Forwarded-For entry; spoofed entries beyond them are ignored', async () => {
  const w = await world(
    [
      limit('team/p/ip', 2, HOUR, {
        trustedHops: 1,
        key: [{ type: 'ClientIP', ipv4Prefix: 32, ipv6Prefix: 128 }],
      }),
    ],
    { main: ['team/p/ip'] },
  );
  try {
    // one trusted proxy appended the real client (203.0.113.7); the client forged the left entries
    const spoof = (fake: string) => ({ 'x-forwarded-for': `${fake}, 203.0.113.7` });
    assert.equal(await burst(w.dp.port, 1, '/', spoof('1.1.1.1')), { 200: 1 });
    assert.equal(await burst(w.dp.port, 1, '/', spoof('2.2.2.2')), { 200: 1 });
    assert.equal(
      await burst(w.dp.port, 1, '/', spoof('3.3.3.3')),
      { 429: 1 },
      'forged entries do not reset the count',
    );
    assert.equal(await burst(w.dp.port, 2, '/', { 'x-forwarded-for': '198.51.100.1' }), { 200: 2 });
  } finally {
    await w.close();
  }
});

test('client IP: an IPv6 /64 groups addresses, IPv4 clients stay whole', async () => {
  const w = await world(
    [
      limit('team/p/v6', 2, HOUR, {
        trustedHops: 1,
        key: [{ type: 'ClientIP', ipv4Prefix: 32, ipv6Prefix: 64 }],
      }),
    ],
    { main: ['team/p/v6'] },
  );
  try {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    assert.is((await hit(w.dp.port, '/', from('2001:db8:1:2::1'))).status, 200);
    assert.is((await hit(w.dp.port, '/', from('2001:0db8:0001:0002:ffff::9'))).status, 200);
    assert.is((await hit(w.dp.port, '/', from('2001:db8:1:2:aaaa:bbbb:cccc:dddd'))).status, 429, 'same /64');
    assert.is((await hit(w.dp.port, '/', from('2001:db8:1:3::1'))).status, 200, 'another /64');
    assert.is((await hit(w.dp.port, '/', from('192.0.2.1'))).status, 200);
    assert.is((await hit(w.dp.port, '/', from('192.0.2.2'))).status, 200, 'IPv4 /32');
  } finally {
    await w.close();
  }
});

test('query parameter, path and route keys', async () => {
  const w = await world(
    [
      limit('team/p/q', 1, HOUR, { key: [{ type: 'QueryParam', name: 'api_key' }] }),
      limit('team/p/path', 2, HOUR, { key: [{ type: 'Path' }] }),
      limit('team/pool/route', 3, HOUR, { key: [{ type: 'Route' }] }),
    ],
    { main: ['team/p/q', 'team/pool/route'], other: ['team/p/path', 'team/pool/route'] },
  );
  try {
    assert.is((await hit(w.dp.port, '/?api_key=k1')).status, 200);
    assert.is((await hit(w.dp.port, '/x?api_key=k1')).status, 429, 'same api_key');
    assert.is((await hit(w.dp.port, '/?api_key=k%32')).status, 200, 'k2, percent-decoded');
    assert.is((await hit(w.dp.port, '/other/a')).status, 200);
    assert.is((await hit(w.dp.port, '/other/a')).status, 200);
    assert.is((await hit(w.dp.port, '/other/a')).status, 429, 'path /other/a spent');
    // the route rule took a token from each of the three (rules that allow still count)
    assert.is((await hit(w.dp.port, '/other/b')).status, 429, 'route budget (3 per route) spent');
    assert.is(
      (await hit(w.dp.port, '/?api_key=k3')).status,
      429,
      'main route: its route budget (3) is spent',
    );
  } finally {
    await w.close();
  }
});

test('match: only matching requests count; every matching rule counts; shadow never blocks', async () => {
  const w = await world(
    [
      limit('team/p/posts', 1, HOUR, {
        match: {
          path: { type: 'PathPrefix', value: '/api' },
          method: 'POST',
          headers: [{ name: 'x-plan', type: 'Exact', value: 'free' }],
          cookies: [],
          queryParams: [],
        },
      }),
      limit('team/p/all', 4, HOUR),
      limit('team/s/shadow', 1, HOUR, { shadow: true }),
    ],
    { main: ['team/p/posts', 'team/p/all', 'team/s/shadow'] },
  );
  try {
    const post = (plan: string) =>
      request(w.dp.port, { method: 'POST', path: '/api/x', headers: { 'x-plan': plan } });
    assert.is((await post('free')).status, 200);
    assert.is((await post('paid')).status, 200, 'paid plan does not match the posts rule');
    const r = await post('free');
    assert.is(r.status, 429, 'posts rule spent');
    assert.match(String(r.headers['ratelimit']), /"team\/p\/posts";r=0/);
    assert.is((await hit(w.dp.port, '/api/x')).status, 200, 'GET does not match the posts rule');
    assert.is((await hit(w.dp.port, '/')).status, 429, 'the all rule counted every request (4 allowed)');
    const metrics = await request(w.dp.adminPort, { path: '/metrics' });
    assert.match(
      metrics.body,
      /bulkhead_ratelimit_decisions_total\{[^}]*policy="team\/s"[^}]*rule="shadow"[^}]*outcome="shadow-limited"[^}]*\} [1-9]/,
    );
    assert.match(
      metrics.body,
      /bulkhead_ratelimit_decisions_total\{[^}]*rule="posts"[^}]*outcome="limited"[^}]*\} 1/,
    );
    assert.ok(
      w.dp.logs.lines.some((l) => l.includes('would have limited')),
      'shadow limit logged',
    );
  } finally {
    await w.close();
  }
});

test('bounded key memory: a max-keys cap evicts the oldest key (counted); idle keys expire', async () => {
  const saved = { ...LocalStoreLimits };
  LocalStoreLimits.maxKeysPerRule = 5;
  LocalStoreLimits.sweepMs = 100;
  // 5 per 250 ms: a bucket that took one token is full again 50 ms later
  const w = await world([limit('team/p/keys', 5, 250, { key: [{ type: 'Header', name: 'x-tenant' }] })], {
    main: ['team/p/keys'],
  });
  Object.assign(LocalStoreLimits, saved);
  try {
    for (let i = 0; i < 8; i++) assert.is((await hit(w.dp.port, '/', { 'x-tenant': `t${i}` })).status, 200);
    let m = (await request(w.dp.adminPort, { path: '/metrics' })).body;
    assert.match(m, /bulkhead_ratelimit_keys\{[^}]*rule="keys"[^}]*\} 5\n/);
    assert.match(m, /bulkhead_ratelimit_keys_evicted_total\{[^}]*rule="keys"[^}]*\} 3\n/);
    await delay(400);
    m = (await request(w.dp.adminPort, { path: '/metrics' })).body;
    assert.match(m, /bulkhead_ratelimit_keys\{[^}]*rule="keys"[^}]*\} 0\n/, 'full buckets are dropped');
  } finally {
    await w.close();
  }
});

test('a new snapshot keeps the counters (same rule id), and a changed limit applies to them', async () => {
  const w = await world([limit('team/p/keep', 3, HOUR)], { main: ['team/p/keep'] });
  try {
    assert.equal(await burst(w.dp.port, 2), { 200: 2 });
    const { limitedSnapshot } = await import('./fixtures.ts');
    const next = limitedSnapshot(w.be.port, [limit('team/p/keep', 3, HOUR, { burst: 1 })], {
      main: ['team/p/keep'],
    });
    assert.ok(w.dp.apply(next).ok);
    assert.equal(
      await burst(w.dp.port, 3),
      { 200: 1, 429: 2 },
      'capacity 4, 2 spent before the swap: 1 left',
    );
  } finally {
    await w.close();
  }
});

test.run();
