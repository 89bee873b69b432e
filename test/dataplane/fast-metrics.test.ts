// fast-metrics.ts against prom-client itself: the same observations give the same exposition
// lines (buckets at their edges, above the last bound, sums, counts), and deferred counter
// increments are all there at the first scrape and never counted twice.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Counter, Histogram, Registry } from 'prom-client';
import { DeferredCounters, FastHistogram } from '../../src/dataplane/fast-metrics.ts';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const VALUES = [0, 0.0005, 0.001, 0.00100001, 0.05, 0.1, 0.7, 1, 3, 42];

function lines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('h_'))
    .sort();
}

test('FastHistogram exposes what prom-client Histogram exposes for the same observations', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const h = new Histogram({
    name: 'h',
    help: 'x',
    labelNames: ['route'],
    buckets: BOUNDS,
    registers: [theirs],
  });
  const f = new FastHistogram('h', 'x', ['route'], BOUNDS, ours);
  for (const route of ['a', 'b']) {
    const s = f.child({ route });
    for (const v of VALUES) {
      h.labels(route).observe(v);
      s.observe(v);
    }
  }
  assert.equal(lines(await ours.metrics()), lines(await theirs.metrics()));
  assert.is(lines(await ours.metrics()).length, 2 * (BOUNDS.length + 1 + 2));
  f.reset();
  assert.match(await ours.metrics(), /h_count\{route="a"\} 0/);
});

test('deferred counter increments reach prom-client at scrape time, exactly once', async () => {
  const reg = new Registry();
  const pending = new DeferredCounters();
  const c = new Counter({
    name: 'c_total',
    help: 'x',
    labelNames: ['k'],
    registers: [reg],
    collect: () => pending.flush(),
  });
  const a = pending.add(c.labels('a'));
  const b = pending.add(c.labels('b'));
  for (let i = 0; i < 1000; i++) a.n++;
  b.n += 7;
  assert.match(await reg.metrics(), /c_total\{k="a"\} 1000/);
  assert.match(await reg.metrics(), /c_total\{k="a"\} 1000/, 'a second scrape adds nothing');
  a.n++;
  assert.match(await reg.metrics(), /c_total\{k="a"\} 1001/);
  assert.match(await reg.metrics(), /c_total\{k="b"\} 7/);
});

test.run();
