import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createEndpointStates, type EndpointState } from '../../src/dataplane/balancer/index.ts';
import { MAX_EJECTION_MS, PassiveOutlierDetector } from '../../src/dataplane/health/index.ts';
import { cluster } from '../balancer/clusters.ts';

const BASE = 30_000;
function setup(n: number, consecutiveErrors = 3, maxEjectionPercent = 50) {
  const eps = [...createEndpointStates(cluster('RoundRobin', n)).values()];
  const det = new PassiveOutlierDetector(
    { consecutiveErrors, baseEjectionTimeMs: BASE, maxEjectionPercent },
    () => eps,
  );
  return { eps, det };
}
function fail(det: PassiveOutlierDetector, ep: EndpointState, times: number, now: number) {
  for (let i = 0; i < times; i++) det.record(ep, false, now);
}

test('consecutive failures eject; a success resets the count', () => {
  const { eps, det } = setup(4);
  const ep = eps[0]!;
  let t = 1000;
  fail(det, ep, 2, t);
  det.record(ep, true, t);
  fail(det, ep, 2, t);
  assert.is(ep.ejectedUntil, 0, 'the success in between reset the counter');
  fail(det, ep, 1, t);
  assert.is(ep.ejectedUntil, t + BASE);
  // failures of requests still in flight during the ejection do not extend it
  fail(det, ep, 10, t + 1);
  assert.is(ep.ejectedUntil, t + BASE);
  const firstEnd = ep.ejectedUntil;
  t += BASE;
  fail(det, ep, 2, t);
  assert.is(ep.ejectedUntil, firstEnd, 'back in service: no new ejection before the threshold');
  fail(det, ep, 1, t);
  assert.is(ep.ejectedUntil, t + 2 * BASE, 'second ejection lasts twice as long');
});

test('back-off: base × times ejected, capped at 300 s, fading while healthy', () => {
  const { eps, det } = setup(2, 1, 50);
  const ep = eps[0]!;
  let t = 0;
  const durations: number[] = [];
  for (let i = 0; i < 12; i++) {
    t = Math.max(t, ep.ejectedUntil); // fail again right when it comes back
    fail(det, ep, 1, t);
    durations.push(ep.ejectedUntil - t);
  }
  assert.equal(
    durations,
    [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 300, 300].map((s) => s * 1000),
  );
  assert.is(MAX_EJECTION_MS, 300_000);
  // healthy for 5 base periods after returning: the multiplier drops by 5 before the next ejection
  const before = det.ejections(ep);
  t = ep.ejectedUntil + 5 * BASE;
  fail(det, ep, 1, t);
  assert.is(det.ejections(ep), before - 5 + 1);
  assert.is(ep.ejectedUntil - t, Math.min((before - 4) * BASE, MAX_EJECTION_MS));
});

test('never more than maxEjectionPercent ejected at once', () => {
  // [endpoints, percent, how many of them may be out together]
  const table: [number, number, number][] = [
    [4, 50, 2],
    [10, 10, 1],
    [10, 35, 3],
    [1, 50, 0],
    [1, 100, 1],
    [3, 0, 0],
  ];
  for (const [n, pct, allowed] of table) {
    const { eps, det } = setup(n, 1, pct);
    for (const ep of eps) fail(det, ep, 1, 1000);
    const out = eps.filter((e) => e.ejectedUntil > 1000).length;
    assert.is(out, allowed, `${n} endpoints at ${pct} %`);
  }
  // once an ejection ends, the next failing endpoint may take the free slot
  const { eps, det } = setup(4, 2, 50);
  fail(det, eps[0]!, 2, 0);
  fail(det, eps[1]!, 2, 0);
  fail(det, eps[2]!, 2, 0);
  assert.is(eps[2]!.ejectedUntil, 0);
  fail(det, eps[2]!, 1, BASE); // its count was kept; the others have just returned
  assert.is(eps[2]!.ejectedUntil, 2 * BASE);
});

test('without passive config nothing happens', () => {
  const eps = [...createEndpointStates(cluster('RoundRobin', 2)).values()];
  const det = new PassiveOutlierDetector(null, () => eps);
  fail(det, eps[0]!, 100, 5);
  assert.is(eps[0]!.ejectedUntil, 0);
});

test.run();
