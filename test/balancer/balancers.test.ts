import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createBalancer,
  createEndpointStates,
  hashKeyFor,
  observeLatency,
  peakEwmaCost,
  Prng,
  DEFAULT_RTT_MS,
  FAILURE_PENALTY_MS,
  type EndpointState,
} from '../../src/dataplane/balancer/index.ts';
import type { LbAlgorithm } from '../../src/ir/snapshot.ts';
import { cluster } from './clusters.ts';

const NOW = 1_000_000;
const ALGORITHMS: LbAlgorithm[] = ['PeakEWMA', 'LeastRequest', 'RoundRobin', 'ConsistentHash'];

function setup(algorithm: LbAlgorithm, n: number, seed = 7) {
  const c = cluster(algorithm, n);
  const eps = [...createEndpointStates(c).values()];
  return { c, eps, lb: createBalancer(c, eps, seed) };
}
const last = (ep: EndpointState | null) => (ep === null ? '-' : ep.address.split('.')[3]!);
function counts(pick: () => EndpointState | null, times: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const k = last(pick());
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

test('Prng: deterministic, in range, roughly uniform', () => {
  const a = new Prng(123);
  const b = new Prng(123);
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10_000; i++) {
    const x = a.next();
    assert.is(x, b.next());
    assert.ok(x >= 0 && x < 1);
    buckets[Math.floor(x * 10)]++;
  }
  for (const c of buckets) assert.ok(Math.abs(c - 1000) < 100, String(buckets));
  assert.is.not(new Prng(1).next(), new Prng(2).next());
});

test('createEndpointStates reuses state objects across a swap', () => {
  const before = createEndpointStates(cluster('RoundRobin', 3));
  const ep2 = before.get('10.0.0.2:8080')!;
  ep2.inflight = 4;
  ep2.ewmaMs = 42;
  const after = createEndpointStates(cluster('RoundRobin', 5), before);
  assert.equal(
    [...after.keys()],
    ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080', '10.0.0.4:8080', '10.0.0.5:8080'],
  );
  assert.is(after.get('10.0.0.2:8080'), ep2);
  assert.is(after.get('10.0.0.2:8080')!.inflight, 4);
  assert.equal(after.get('10.0.0.5:8080'), {
    key: '10.0.0.5:8080',
    address: '10.0.0.5',
    port: 8080,
    inflight: 0,
    healthy: true,
    ejectedUntil: 0,
    ewmaMs: 0,
    lastUpdate: 0,
  });
});

test('every algorithm: null when nothing is available, skips unhealthy and ejected', () => {
  for (const alg of ALGORITHMS) {
    assert.is(setup(alg, 0).lb.pick({ hashKey: 'k' }, NOW), null, `${alg} empty`);
    const { eps, lb } = setup(alg, 3);
    eps[0]!.healthy = false;
    eps[1]!.ejectedUntil = NOW + 1000;
    for (let i = 0; i < 50; i++) assert.is(last(lb.pick({ hashKey: `k${i}` }, NOW)), '3', alg);
    // the ejection ends at ejectedUntil
    const later = counts(() => lb.pick({ hashKey: 'k' + Math.random() }, NOW + 1000), 200);
    assert.ok(later['2']! > 0 && later['1'] === undefined, `${alg} ${JSON.stringify(later)}`);
    eps[2]!.healthy = false;
    eps[1]!.healthy = false;
    assert.is(lb.pick({ hashKey: 'k' }, NOW + 1000), null, `${alg} all down`);
  }
});

test('the same seed gives the same sequence', () => {
  for (const alg of ALGORITHMS) {
    const seq = (seed: number) => {
      const { lb } = setup(alg, 5, seed);
      return Array.from({ length: 20 }, () => last(lb.pick(undefined, NOW))).join('');
    };
    assert.is(seq(99), seq(99), alg);
  }
});

test('RoundRobin: sequences', () => {
  const { eps, lb } = setup('RoundRobin', 4, 7);
  const start = Number(last(lb.pick(undefined, NOW))) - 1;
  const seq = Array.from({ length: 8 }, () => last(lb.pick(undefined, NOW))).join('');
  const cycle = '1234'.repeat(4);
  assert.is(seq, cycle.slice(start + 1, start + 9));
  // skipping: endpoint 2 down
  eps[1]!.healthy = false;
  const skipping = Array.from({ length: 6 }, () => last(lb.pick(undefined, NOW))).join('');
  assert.ok(/^(134)+$|^(341)+$|^(413)+$/.test(skipping), skipping);
});

test('LeastRequest: P2C ratios by inflight (3 endpoints: 2/3, 1/3, 0)', () => {
  const { eps, lb } = setup('LeastRequest', 3, 11);
  eps[0]!.inflight = 0;
  eps[1]!.inflight = 5;
  eps[2]!.inflight = 10;
  const c = counts(() => lb.pick(undefined, NOW), 10_000);
  assert.ok(Math.abs(c['1']! / 10_000 - 2 / 3) <= 0.02, JSON.stringify(c));
  assert.ok(Math.abs(c['2']! / 10_000 - 1 / 3) <= 0.02, JSON.stringify(c));
  assert.is(c['3'], undefined);
});

test('LeastRequest: P2C spreads outstanding requests evenly', () => {
  const { eps, lb } = setup('LeastRequest', 4, 3);
  for (let i = 0; i < 400; i++) lb.onStart(lb.pick(undefined, NOW)!);
  const inflight = eps.map((e) => e.inflight);
  assert.is(
    inflight.reduce((a, b) => a + b),
    400,
  );
  assert.ok(Math.max(...inflight) - Math.min(...inflight) <= 4, String(inflight));
  for (const ep of eps) while (ep.inflight > 0) lb.onEnd(ep, 1, true, NOW);
  lb.onEnd(eps[0]!, 1, true, NOW);
  assert.is(eps[0]!.inflight, 0, 'never negative');
});

test('observeLatency: peak-sensitive EWMA', () => {
  const ep = createEndpointStates(cluster('PeakEWMA', 1)).get('10.0.0.1:8080')!;
  // [latency, ok, time since start, expected estimate]
  const steps: [number, boolean, number, number][] = [
    [20, true, 0, 20], // first sample is taken as is
    [100, true, 10, 100], // a peak replaces the estimate at once
    [10, true, 10_010, 100 * Math.exp(-1) + 10 * (1 - Math.exp(-1))], // decays with τ = 10 s
    [1, false, 10_020, FAILURE_PENALTY_MS], // a failure counts as slow
  ];
  for (const [lat, ok, t, want] of steps) {
    observeLatency(ep, lat, ok, NOW + t);
    assert.ok(Math.abs(ep.ewmaMs - want) < 1e-9, `${lat}ms at ${t}: ${ep.ewmaMs} ≠ ${want}`);
  }
});

test('PeakEWMA: prefers the fast endpoint, backs off under load, retries an idle slow one', () => {
  const { eps, lb } = setup('PeakEWMA', 3, 5);
  const [fast, slow, slower] = eps as [EndpointState, EndpointState, EndpointState];
  assert.is(peakEwmaCost(fast, NOW), DEFAULT_RTT_MS, 'unknown endpoints start at the default');
  for (let i = 0; i < 5; i++) {
    for (const [ep, ms] of [
      [fast, 5],
      [slow, 100],
      [slower, 300],
    ] as const) {
      lb.onStart(ep);
      lb.onEnd(ep, ms, true, NOW + i);
    }
  }
  // fast wins whenever it is one of the two candidates (2/3), slow wins the remaining pair
  const c = counts(() => lb.pick(undefined, NOW + 10), 10_000);
  assert.ok(Math.abs(c['1']! / 10_000 - 2 / 3) <= 0.02, JSON.stringify(c));
  assert.ok(Math.abs(c['2']! / 10_000 - 1 / 3) <= 0.02, JSON.stringify(c));
  assert.is(c['3'], undefined);
  // with 30 in flight the fast one costs 5 × 31 = 155: more than slow (100), less than slower (300)
  fast.inflight = 30;
  const loaded = counts(() => lb.pick(undefined, NOW + 10), 10_000);
  assert.ok(Math.abs(loaded['1']! / 10_000 - 1 / 3) <= 0.02, JSON.stringify(loaded));
  assert.ok(Math.abs(loaded['2']! / 10_000 - 2 / 3) <= 0.02, JSON.stringify(loaded));
  fast.inflight = 0;
  // two endpoints: the slow one gets nothing while both are fresh...
  const two = setup('PeakEWMA', 2, 9);
  observeLatency(two.eps[0]!, 20, true, NOW);
  observeLatency(two.eps[1]!, 200, true, NOW);
  assert.equal(
    counts(() => two.lb.pick(undefined, NOW + 100), 500),
    { '1': 500 },
  );
  // ...but after a minute of idling its estimate has faded back to about the default (10 ms),
  // below the fresh 20 ms of the other one, so it gets tried again
  observeLatency(two.eps[0]!, 20, true, NOW + 60_000);
  const idle = peakEwmaCost(two.eps[1]!, NOW + 60_000);
  assert.ok(idle > DEFAULT_RTT_MS && idle < DEFAULT_RTT_MS + 1, String(idle));
  assert.equal(
    counts(() => two.lb.pick(undefined, NOW + 60_000), 10),
    { '2': 10 },
  );
  // a long-idle endpoint never looks free: in-flight requests still count
  two.eps[1]!.inflight = 3;
  assert.ok(peakEwmaCost(two.eps[1]!, NOW + 3_600_000) >= 4 * DEFAULT_RTT_MS);
});

test('ConsistentHash: same key, same endpoint; even spread', () => {
  const { lb } = setup('ConsistentHash', 10, 1);
  const per: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) {
    const a = lb.pick({ hashKey: `user-${i}` }, NOW);
    assert.is(lb.pick({ hashKey: `user-${i}` }, NOW), a);
    per[last(a)] = (per[last(a)] ?? 0) + 1;
  }
  for (const [k, n] of Object.entries(per)) assert.ok(n > 600 && n < 1400, `endpoint ${k}: ${n}`);
});

test('ConsistentHash: removing one of 10 endpoints keeps every other key in place', () => {
  const ten = setup('ConsistentHash', 10, 1);
  const nine = ten.eps.filter((e) => e.address !== '10.0.0.4');
  const lb9 = createBalancer(ten.c, nine, 2);
  let kept = 0;
  for (let i = 0; i < 10_000; i++) {
    const before = ten.lb.pick({ hashKey: `user-${i}` }, NOW)!;
    const after = lb9.pick({ hashKey: `user-${i}` }, NOW)!;
    if (before.address !== '10.0.0.4') assert.is(after, before, `user-${i} moved`);
    if (after === before) kept++;
  }
  assert.ok(kept >= 8500, `kept ${kept}`);
  // an unavailable owner hands its keys to others without moving anyone else
  ten.eps[3]!.healthy = false;
  for (let i = 0; i < 2000; i++) {
    assert.is(ten.lb.pick({ hashKey: `user-${i}` }, NOW)!.key, lb9.pick({ hashKey: `user-${i}` }, NOW)!.key);
  }
});

test('ConsistentHash: without a key the pick is random among available endpoints', () => {
  const { lb } = setup('ConsistentHash', 4, 3);
  const c = counts(() => lb.pick(undefined, NOW), 4000);
  assert.is(Object.keys(c).length, 4);
  for (const n of Object.values(c)) assert.ok(Math.abs(n - 1000) < 150, JSON.stringify(c));
});

test('hashKeyFor', () => {
  const headers = { 'x-user': 'u1', cookie: 'a=1; sid=abc', host: 'h' };
  const cases: [Parameters<typeof cluster>[2], LbAlgorithm, string | undefined][] = [
    [{ header: 'X-User' }, 'ConsistentHash', 'u1'],
    [{ header: 'x-missing' }, 'ConsistentHash', undefined],
    [{ cookie: 'sid' }, 'ConsistentHash', 'abc'],
    [{ cookie: 'nope' }, 'ConsistentHash', undefined],
    [{ clientIP: true }, 'ConsistentHash', '192.0.2.7'],
    [{}, 'ConsistentHash', undefined],
    [{ header: 'x-user' }, 'RoundRobin', undefined],
  ];
  for (const [hash, alg, want] of cases) {
    assert.is(hashKeyFor(cluster(alg, 1, hash), headers, '192.0.2.7'), want, JSON.stringify(hash));
  }
});

test.run();
