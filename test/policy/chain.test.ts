// The per-route policy chain on a real data plane with real HTTP/1.1 and h2c clients: a policy that
// answers, one that adds headers both ways, an asynchronous one that resumes, order of phases, a
// client that leaves while its request is suspended, and a policy that throws (500, process fine).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import {
  cluster,
  closeServer,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';
import {
  Answered,
  Continue,
  Pending,
  registerPolicy,
  type RoutePolicy,
} from '../../src/dataplane/policy/index.ts';
import type { Verdict } from '../../src/dataplane/policy/types.ts';
import type { RequestContext } from '../../src/dataplane/request-context.ts';

/** Registers `policy` for routes whose rule is `rule`, in `phase`; returns the unregister function. */
function onRule(rule: string, phase: number, policy: RoutePolicy): () => void {
  return registerPolicy(phase, (r) => (r.rule === rule ? policy : null));
}

async function world(handlerSeen: (h: IncomingHttpHeaders, url: string) => void = () => {}) {
  let hits = 0;
  const be = await httpBackend((req, res) => {
    hits++;
    handlerSeen(req.headers, req.url!);
    req.resume();
    req.on('end', () => res.end('backend'));
  });
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/web/guarded', 'team/web:80', {
          rule: 'guarded',
          match: { path: { type: 'PathPrefix', value: '/admin' } },
        }),
        route('team/web/open', 'team/web:80', { rule: 'open' }),
      ],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  return {
    dp,
    be,
    hits: () => hits,
    close: async () => {
      await dp.close();
      await closeServer(be);
    },
  };
}

test('a policy answers 403 itself: nothing reaches the backend; other routes unaffected', async () => {
  const off = onRule('guarded', 200, {
    kind: 'test-deny',
    onRequest(rc) {
      rc.respond(
        403,
        ['content-type', 'text/plain', 'x-denied-by', 'test'],
        Buffer.from('denied\n'),
        'test-denied',
      );
      return Answered;
    },
  });
  const w = await world();
  try {
    const r = await request(w.dp.port, { path: '/admin/users' });
    assert.is(r.status, 403);
    assert.is(r.body, 'denied\n');
    assert.is(r.headers['x-denied-by'], 'test');
    assert.is(w.hits(), 0);
    // the dot-segment spelling of the same path meets the same policy
    const sneaky = await request(w.dp.port, { path: '/public/%2e%2e/admin/users' });
    assert.is(sneaky.status, 403);
    assert.is(w.hits(), 0);
    const open = await request(w.dp.port, { path: '/public' });
    assert.is(open.status, 200);
    assert.is(w.hits(), 1);
  } finally {
    off();
    await w.close();
  }
});

test('a policy adds a header upstream and one downstream', async () => {
  const off = onRule('guarded', 200, {
    kind: 'test-headers',
    onRequest(rc) {
      rc.addUpstreamHeader('x-user-id', 'u-42');
      rc.addResponseHeader('x-policy', 'seen');
      return Continue;
    },
  });
  let seen: IncomingHttpHeaders = {};
  const w = await world((h) => (seen = h));
  try {
    const r = await request(w.dp.port, { path: '/admin', headers: { 'x-user-id': 'forged' } });
    assert.is(r.status, 200);
    assert.is(r.headers['x-policy'], 'seen');
    assert.is(seen['x-user-id'], 'u-42', 'the policy value replaces an inbound copy');
  } finally {
    off();
    await w.close();
  }
});

test('a policy value that could split the request (CR, LF, NUL) is not forwarded, over HTTP/1.1', async () => {
  const off = onRule('guarded', 200, {
    kind: 'test-injection',
    onRequest(rc) {
      rc.dropUpstreamHeader('x-claim');
      rc.addUpstreamHeader('x-claim', 'alice\r\nx-admin: true');
      rc.addUpstreamHeader('x-nul', 'a\0b');
      rc.addUpstreamHeader('x-fine', 'ok');
      return Continue;
    },
  });
  let seen: IncomingHttpHeaders = {};
  const w = await world((h) => (seen = h));
  try {
    const r = await request(w.dp.port, { path: '/admin', headers: { 'x-claim': 'forged' } });
    assert.is(r.status, 200);
    assert.is(seen['x-fine'], 'ok');
    assert.is(seen['x-admin'], undefined, 'no header was injected');
    assert.is(seen['x-claim'], undefined, 'the inbound copy is dropped and the bad value not added');
    assert.is(seen['x-nul'], undefined);
  } finally {
    off();
    await w.close();
  }
});

/** An asynchronous policy: decides after `ms` (as a Redis round trip would), allows paths without `deny`. */
class SlowPolicy implements RoutePolicy {
  readonly kind = 'test-async';
  private readonly waiting: RequestContext[] = [];
  resumed = 0;
  constructor(private readonly ms: number) {}
  onRequest(rc: RequestContext): Verdict {
    this.waiting.push(rc);
    setTimeout(() => this.decide(), this.ms);
    return Pending;
  }
  private decide(): void {
    const rc = this.waiting.shift()!;
    this.resumed++;
    if (rc.path.includes('deny')) rc.respond(429, [], null, 'test-limited');
    else {
      rc.addUpstreamHeader('x-decided', 'later');
      rc.resume();
    }
  }
}

test('an asynchronous policy resumes the request (HTTP/1.1 with a body, and h2c)', async () => {
  const slow = new SlowPolicy(30);
  const off = onRule('guarded', 300, slow);
  let seen: IncomingHttpHeaders = {};
  const w = await world((h) => (seen = h));
  try {
    const r = await request(w.dp.port, { method: 'POST', path: '/admin/x', body: 'payload-'.repeat(1000) });
    assert.is(r.status, 200);
    assert.is(seen['x-decided'], 'later');
    const denied = await request(w.dp.port, { path: '/admin/deny' });
    assert.is(denied.status, 429);
    const s = http2.connect(`http://127.0.0.1:${w.dp.port}`);
    const st = s.request({ ':path': '/admin/h2' });
    const [h2head] = (await Promise.all([
      new Promise((res) => st.once('response', res)),
      new Promise((res) => st.resume().once('end', res)),
    ])) as unknown as [IncomingHttpHeaders];
    assert.is(h2head[':status'], 200);
    s.close();
    assert.is(slow.resumed, 3);
    assert.is(w.hits(), 2);
  } finally {
    off();
    await w.close();
  }
});

test('a client that leaves while suspended is never sent upstream', async () => {
  const slow = new SlowPolicy(150);
  const off = onRule('guarded', 300, slow);
  const w = await world();
  try {
    const s = http2.connect(`http://127.0.0.1:${w.dp.port}`);
    const st = s.request({ ':path': '/admin/gone' });
    st.on('error', () => {});
    await delay(30);
    st.close(http2.constants.NGHTTP2_CANCEL);
    await delay(250);
    assert.is(slow.resumed, 1);
    assert.is(w.hits(), 0);
    s.close();
  } finally {
    off();
    await w.close();
  }
});

test('phases run in order: CORS (100) before auth (200) before rate limits (300)', async () => {
  const order: string[] = [];
  const mk = (name: string): RoutePolicy => ({
    kind: name,
    onRequest() {
      order.push(name);
      return Continue;
    },
  });
  const offs = [
    onRule('guarded', 300, mk('ratelimit')),
    onRule('guarded', 100, mk('cors')),
    onRule('guarded', 200, mk('auth')),
  ];
  const w = await world();
  try {
    assert.is((await request(w.dp.port, { path: '/admin' })).status, 200);
    assert.equal(order, ['cors', 'auth', 'ratelimit']);
  } finally {
    offs.forEach((f) => f());
    await w.close();
  }
});

test('a policy that throws costs its request a 500, counted; the process keeps serving', async () => {
  const off = onRule('guarded', 200, {
    kind: 'test-buggy',
    onRequest() {
      throw new TypeError('boom');
    },
  });
  const w = await world();
  try {
    const r = await request(w.dp.port, { path: '/admin' });
    assert.is(r.status, 500);
    assert.is(r.headers['x-bulkhead-reason'], 'policy-failure');
    assert.is((await request(w.dp.port, { path: '/other' })).status, 200);
    const metrics = await request(w.dp.adminPort, { path: '/metrics' });
    assert.match(metrics.body, /bulkhead_policy_errors_total\{[^}]*policy="test-buggy"[^}]*\} 1/);
  } finally {
    off();
    await w.close();
  }
});

test.run();
