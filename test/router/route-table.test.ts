import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  RouteTable,
  RouteTableError,
  normalizeHost,
  stickyToken,
} from '../../src/dataplane/router/route-table.ts';
import { request, route, snapshot } from './routes.ts';

const prefix = (value: string) => ({ path: { type: 'PathPrefix' as const, value } });
const exact = (value: string) => ({ path: { type: 'Exact' as const, value } });
const regex = (value: string) => ({ path: { type: 'RegularExpression' as const, value } });

function table(...specs: Parameters<typeof route>[0][]) {
  return RouteTable.build(snapshot(specs.map(route)));
}
function hit(t: RouteTable, line: string, headers?: Record<string, string>): string | null {
  return t.match(request(line, headers))?.id ?? null;
}

test('normalizeHost', () => {
  const cases: [string, string][] = [
    ['Shop.Example.COM', 'shop.example.com'],
    ['shop.example.com:8080', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['127.0.0.1:80', '127.0.0.1'],
  ];
  for (const [input, want] of cases) assert.is(normalizeHost(input), want, input);
});

test('host groups: exact, longest wildcard, any-host', () => {
  const t = table(
    { id: 'ns/exact/r', hostnames: ['a.example.com'], match: prefix('/x') },
    { id: 'ns/wild/r', hostnames: ['*.example.com'] },
    { id: 'ns/deep/r', hostnames: ['*.b.example.com'] },
    { id: 'ns/any/r', hostnames: [] },
  );
  const cases: [string, string | null][] = [
    ['GET a.example.com/x', 'ns/exact/r'],
    ['GET A.EXAMPLE.COM:8080/x/y', 'ns/exact/r'],
    // the exact group wins even when none of its own routes fit; any-host routes are members of it
    ['GET a.example.com/other', 'ns/any/r'],
    ['GET c.example.com/x', 'ns/wild/r'],
    ['GET c.d.example.com/x', 'ns/wild/r'],
    ['GET c.b.example.com/x', 'ns/deep/r'],
    ['GET x.y.b.example.com/x', 'ns/deep/r'],
    ['GET b.example.com/x', 'ns/wild/r'],
    ['GET example.com/x', 'ns/any/r'],
    ['GET other.org/x', 'ns/any/r'],
  ];
  for (const [line, want] of cases) assert.is(hit(t, line), want, line);
});

test('no any-host routes: unknown hosts match nothing', () => {
  const t = table({ id: 'ns/a/r', hostnames: ['a.com'] }, { id: 'ns/w/r', hostnames: ['*.b.com'] });
  assert.is(hit(t, 'GET c.com/'), null);
  assert.is(hit(t, 'GET b.com/'), null);
  assert.is(hit(t, 'GET x.b.com/'), 'ns/w/r');
  assert.is(t.size, 2);
});

test('any-host routes keep their precedence position inside host groups', () => {
  const t = table(
    { id: 'ns/any-first/r', hostnames: [], match: exact('/first') },
    { id: 'ns/host/r', hostnames: ['h.com'], match: prefix('/') },
    { id: 'ns/any-last/r', hostnames: [], match: exact('/last') },
    { id: 'ns/wild/r', hostnames: ['*.w.com'], match: prefix('/api') },
  );
  assert.is(hit(t, 'GET h.com/first'), 'ns/any-first/r');
  assert.is(hit(t, 'GET h.com/last'), 'ns/host/r', 'the host route comes first in snapshot order');
  assert.is(hit(t, 'GET x.w.com/first'), 'ns/any-first/r');
  assert.is(hit(t, 'GET x.w.com/last'), 'ns/any-last/r');
  assert.is(hit(t, 'GET x.w.com/api/1'), 'ns/wild/r');
  assert.is(hit(t, 'GET nohost.com/last'), 'ns/any-last/r');
});

test('path types', () => {
  const t = table(
    { id: 'ns/exact/r', match: exact('/login') },
    { id: 'ns/regex/r', match: regex('/users/[0-9]+') },
    { id: 'ns/prefix/r', match: prefix('/api') },
    { id: 'ns/slash-prefix/r', match: prefix('/docs/') },
    { id: 'ns/root/r', match: prefix('/') },
  );
  const cases: [string, string][] = [
    ['GET h/login', 'ns/exact/r'],
    ['GET h/login/', 'ns/root/r'],
    ['GET h/users/42', 'ns/regex/r'],
    ['GET h/users/42/x', 'ns/root/r'],
    ['GET h/api', 'ns/prefix/r'],
    ['GET h/api/', 'ns/prefix/r'],
    ['GET h/api/x/y', 'ns/prefix/r'],
    ['GET h/apix', 'ns/root/r'],
    ['GET h/API', 'ns/root/r'],
    ['GET h/docs', 'ns/slash-prefix/r'],
    ['GET h/docs/a', 'ns/slash-prefix/r'],
    ['GET h/docsx', 'ns/root/r'],
    ['GET h/', 'ns/root/r'],
    ['GET h/anything?q=1', 'ns/root/r'],
  ];
  for (const [line, want] of cases) assert.is(hit(t, line), want, line);
});

test('method, header, cookie and query conditions', () => {
  const t = table(
    {
      id: 'ns/header/r',
      match: { ...prefix('/'), headers: [{ name: 'x-canary', type: 'Exact', value: 'true' }] },
    },
    {
      id: 'ns/header-re/r',
      match: { headers: [{ name: 'x-tenant', type: 'RegularExpression', value: 't-[0-9]+' }] },
    },
    {
      id: 'ns/cookie/r',
      match: {
        cookies: [
          { name: 'canary', value: 'always' },
          { name: 'plan', value: 'pro' },
        ],
      },
    },
    { id: 'ns/query/r', match: { queryParams: [{ name: 'v', type: 'Exact', value: '2' }] } },
    {
      id: 'ns/query-re/r',
      match: { queryParams: [{ name: 'id', type: 'RegularExpression', value: '[a-f]+' }] },
    },
    { id: 'ns/post/r', match: { method: 'POST' } },
    { id: 'ns/fallback/r' },
  );
  const cases: [string, Record<string, string>, string][] = [
    ['GET h/', { 'x-canary': 'true' }, 'ns/header/r'],
    ['GET h/', { 'x-canary': 'TRUE' }, 'ns/fallback/r'],
    ['GET h/', { 'x-tenant': 't-17' }, 'ns/header-re/r'],
    ['GET h/', { 'x-tenant': 't-17x' }, 'ns/fallback/r'],
    ['GET h/', { cookie: 'a=1; canary=always; plan=pro' }, 'ns/cookie/r'],
    ['GET h/', { cookie: 'plan=pro;canary=always' }, 'ns/cookie/r'],
    ['GET h/', { cookie: 'canary=always' }, 'ns/fallback/r'],
    ['GET h/', { cookie: 'canary=always; plan=free; plan=pro' }, 'ns/fallback/r'],
    ['GET h/?v=2', {}, 'ns/query/r'],
    ['GET h/?a=1&v=2', {}, 'ns/query/r'],
    ['GET h/?v=3&v=2', {}, 'ns/fallback/r'],
    ['GET h/?%76=%32', {}, 'ns/query/r'],
    ['GET h/?id=beef', {}, 'ns/query-re/r'],
    ['GET h/?id=beefy', {}, 'ns/fallback/r'],
    ['POST h/', {}, 'ns/post/r'],
    ['post h/', {}, 'ns/fallback/r'],
    ['GET h/', {}, 'ns/fallback/r'],
  ];
  for (const [line, headers, want] of cases)
    assert.is(hit(t, line, headers), want, `${line} ${JSON.stringify(headers)}`);
});

test('repeated headers given as arrays are joined', () => {
  const t = table({ id: 'ns/h/r', match: { headers: [{ name: 'x-a', type: 'Exact', value: '1, 2' }] } });
  const req = { ...request('GET h/'), headers: { 'x-a': ['1', '2'] } };
  assert.is(t.match(req)?.id, 'ns/h/r');
});

test('first fitting route wins (snapshot order is precedence)', () => {
  const t = table(
    { id: 'ns/a/r', match: { ...prefix('/api'), headers: [{ name: 'x-v', type: 'Exact', value: '2' }] } },
    { id: 'ns/b/r', match: prefix('/api') },
    { id: 'ns/c/r', match: { ...prefix('/api'), headers: [{ name: 'x-w', type: 'Exact', value: '1' }] } },
  );
  assert.is(hit(t, 'GET h/api', { 'x-v': '2', 'x-w': '1' }), 'ns/a/r');
  assert.is(hit(t, 'GET h/api', { 'x-w': '1' }), 'ns/b/r');
});

test('a bad regex refuses the snapshot with a clear error', () => {
  const bad: [Parameters<typeof route>[0], string][] = [
    [{ id: 'ns/r/x', match: regex('(a') }, 'route ns/r/x: match.path: invalid regular expression "(a"'],
    [
      { id: 'ns/r/y', match: { headers: [{ name: 'x-a', type: 'RegularExpression', value: '(?=x)' }] } },
      'match.headers[0] (x-a)',
    ],
    [
      { id: 'ns/r/z', match: { queryParams: [{ name: 'q', type: 'RegularExpression', value: '\\1' }] } },
      'backreferences',
    ],
  ];
  for (const [spec, fragment] of bad) {
    try {
      table(spec);
      assert.unreachable(`${spec.id} should be refused`);
    } catch (err) {
      assert.instance(err, RouteTableError);
      assert.ok((err as Error).message.includes(fragment), (err as Error).message);
      assert.is((err as RouteTableError).code, 'BH_ERR_ROUTE_TABLE');
    }
  }
});

test('rewrite.replacePrefix', () => {
  // [prefix, replacement, request path, rewritten]  (the Gateway API table)
  const cases: [string, string, string, string][] = [
    ['/api', '/', '/api/x', '/x'],
    ['/api', '/', '/api', '/'],
    ['/api', '/', '/api/', '/'],
    ['/api', '/v2', '/api/x', '/v2/x'],
    ['/api', '/v2', '/api', '/v2'],
    ['/api', '/v2/', '/api/x', '/v2/x'],
    ['/api/', '/v2', '/api/x', '/v2/x'],
    ['/api/', '/v2', '/api', '/v2'],
    ['/api', '/v2', '/api/', '/v2/'],
    ['/api', '', '/api', '/'],
    ['/', '/v2', '/x', '/v2/x'],
  ];
  for (const [pfx, replacePrefix, path, want] of cases) {
    const t = table({
      id: 'ns/rw/r',
      match: prefix(pfx),
      rewrite: { replacePrefix, hostname: 'internal.svc' },
    });
    const r = t.match(request(`GET h${path}`))!;
    assert.is(r.rewritePath(path), want, `${pfx} → ${replacePrefix} on ${path}`);
    assert.is(r.hostRewrite, 'internal.svc');
  }
  const plain = table({ id: 'ns/p/r', match: exact('/a'), rewrite: { replacePrefix: '/b' } }).match(
    request('GET h/a'),
  )!;
  assert.is(plain.rewritePath('/a'), '/a', 'only PathPrefix matches are rewritten');
  assert.is(plain.hostRewrite, null);
});

test('weighted picks follow the weights (10,000 seeded picks, ±2 %)', () => {
  const t = table({
    id: 'ns/w/r',
    backends: [
      { cluster: 'v1', weight: 90 },
      { cluster: 'v2', weight: 10 },
    ],
  });
  const r = t.match(request('GET h/'))!;
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x100000000;
  const counts: Record<string, number> = { v1: 0, v2: 0 };
  for (let i = 0; i < 10_000; i++) {
    const p = r.pickBackend(undefined, rand())!;
    counts[p.cluster]!++;
    assert.is(p.setCookie, null);
  }
  assert.ok(Math.abs(counts.v1! / 10_000 - 0.9) <= 0.02, JSON.stringify(counts));
  assert.ok(Math.abs(counts.v2! / 10_000 - 0.1) <= 0.02, JSON.stringify(counts));
  // boundaries of the injected rand
  assert.is(r.pickBackend(undefined, 0)!.cluster, 'v1');
  assert.is(r.pickBackend(undefined, 0.8999)!.cluster, 'v1');
  assert.is(r.pickBackend(undefined, 0.9)!.cluster, 'v2');
  assert.is(r.pickBackend(undefined, 0.99999)!.cluster, 'v2');
});

test('no backends: pickBackend returns null', () => {
  const r = table({ id: 'ns/d/r', backends: [] }).match(request('GET h/'))!;
  assert.is(r.pickBackend(undefined, 0.5), null);
});

test('sticky cookie round trip', () => {
  const t = table({
    id: 'ns/s/r',
    backends: [
      { cluster: 'shop/api-v1:8080', weight: 50 },
      { cluster: 'shop/api-v2:8080', weight: 50 },
    ],
    sessionAffinity: { cookie: { name: 'bh-split', ttlMs: 86_400_000 } },
  });
  const r = t.match(request('GET h/'))!;
  const first = r.pickBackend('other=1', 0.75)!;
  assert.is(first.cluster, 'shop/api-v2:8080');
  assert.ok(first.setCookie !== null);
  assert.match(first.setCookie!, /^bh-split=[^;]+; Path=\/; Max-Age=86400; HttpOnly; SameSite=Lax$/);
  assert.not.ok(first.setCookie!.includes('api-v2'), 'the cookie does not reveal the cluster name');
  const token = first.setCookie!.slice('bh-split='.length, first.setCookie!.indexOf(';'));
  assert.is(token, stickyToken(1, 'shop/api-v2:8080'));
  // whatever rand says, the cookie keeps the user on v2, and no new cookie is set
  for (const rand of [0, 0.25, 0.5, 0.99]) {
    const again = r.pickBackend(`a=b; bh-split=${token}; c=d`, rand)!;
    assert.is(again.cluster, 'shop/api-v2:8080');
    assert.is(again.setCookie, null);
  }
  // an unknown or stale token is re-picked by weight and replaced
  const stale = r.pickBackend('bh-split=9.abcdef', 0.1)!;
  assert.is(stale.cluster, 'shop/api-v1:8080');
  assert.ok(stale.setCookie!.startsWith(`bh-split=${stickyToken(0, 'shop/api-v1:8080')};`));
});

test.run();
