// Work queue on a fake clock: de-duplication, debounce with hold-off and max hold-off, per-key
// exponential back-off, and the timer that wakes the controller.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue, type QueueClock } from '../../src/operator/work-queue.ts';

class FakeClock implements QueueClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pendingTimers() {
    return this.timers.length;
  }
  /** advance time, firing timers in order */
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

function setup(
  opts: { holdOffMs?: number; maxHoldOffMs?: number; baseBackoffMs?: number; maxBackoffMs?: number } = {},
) {
  const clock = new FakeClock();
  let ready = 0;
  const q = new WorkQueue({
    holdOffMs: 100,
    maxHoldOffMs: 1000,
    baseBackoffMs: 200,
    maxBackoffMs: 5000,
    ...opts,
    clock,
    onReady: () => ready++,
  });
  return { clock, q, ready: () => ready };
}

test('an added key is due after the hold-off, not before', () => {
  const { clock, q, ready } = setup();
  q.add('ns/a');
  clock.advance(99);
  assert.equal(q.takeDue(), []);
  assert.is(ready(), 0);
  clock.advance(1);
  assert.is(ready(), 1);
  assert.equal(q.takeDue(), ['ns/a']);
  assert.is(q.depth, 0);
});

test('the same key added many times is taken once (de-duplication)', () => {
  const { clock, q } = setup();
  for (let i = 0; i < 50; i++) q.add('ns/a');
  q.add('ns/b');
  assert.is(q.depth, 2);
  clock.advance(100);
  assert.equal(q.takeDue(), ['ns/a', 'ns/b']);
  assert.equal(q.takeDue(), []);
});

test('a storm of events is debounced: each event pushes the due time, bounded by the max hold-off', () => {
  const { clock, q, ready } = setup();
  // an event every 50 ms keeps resetting the 100 ms hold-off...
  for (let i = 0; i < 19; i++) {
    q.add('ns/a');
    clock.advance(50);
    assert.equal(q.takeDue(), [], `not due at ${clock.now()} ms`);
  }
  assert.is(clock.now(), 950);
  q.add('ns/a');
  // ...until the max hold-off (1 s after the first event) forces it through
  clock.advance(50);
  assert.is(ready(), 1);
  assert.equal(q.takeDue(), ['ns/a']);
  // and the next event starts a new window
  q.add('ns/a');
  clock.advance(99);
  assert.equal(q.takeDue(), []);
  clock.advance(1);
  assert.equal(q.takeDue(), ['ns/a']);
});

test('quiet after a burst: due one hold-off after the last event', () => {
  const { clock, q } = setup();
  q.add('ns/a');
  clock.advance(60);
  q.add('ns/a');
  clock.advance(60);
  assert.equal(q.takeDue(), []);
  clock.advance(40);
  assert.equal(q.takeDue(), ['ns/a']);
});

test('failures back off exponentially per key up to the maximum, and forget resets', () => {
  const { clock, q } = setup();
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    const d = q.retry('ns/bad');
    delays.push(d);
    clock.advance(d - 1);
    assert.equal(q.takeDue(), [], `retry ${i + 1} not before ${d} ms`);
    clock.advance(1);
    assert.equal(q.takeDue(), ['ns/bad']);
  }
  assert.equal(delays, [200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.is(q.failuresOf('ns/bad'), 7);
  // another key is not slowed down by ns/bad
  assert.is(q.retry('ns/other'), 200);
  q.forget('ns/bad');
  assert.is(q.failuresOf('ns/bad'), 0);
  assert.is(q.retry('ns/bad'), 200);
});

test('an event for a backing-off key schedules it normally (the user may have fixed it)', () => {
  const { clock, q } = setup();
  q.retry('ns/bad');
  q.retry('ns/bad');
  clock.advance(400);
  q.takeDue();
  q.retry('ns/bad'); // 800 ms back-off
  q.add('ns/bad'); // but an event makes it due after the hold-off
  clock.advance(100);
  assert.equal(q.takeDue(), ['ns/bad']);
});

test('a retry does not delay a key that an event already made due sooner', () => {
  const { clock, q } = setup();
  q.add('ns/a');
  q.retry('ns/a');
  clock.advance(100);
  assert.equal(q.takeDue(), ['ns/a']);
});

test('addNow skips the hold-off; takeDue leaves keys that are not due yet', () => {
  const { clock, q, ready } = setup();
  q.add('ns/later');
  q.addNow('ns/now');
  clock.advance(0);
  assert.is(ready(), 1);
  assert.equal(q.takeDue(), ['ns/now']);
  assert.is(q.depth, 1);
  assert.is(q.nextDue(), 100);
  clock.advance(100);
  assert.equal(q.takeDue(), ['ns/later']);
});

test('one timer at a time, re-armed for the earliest key; shutdown clears everything', () => {
  const { clock, q, ready } = setup();
  q.add('ns/a');
  clock.advance(50);
  q.add('ns/b');
  assert.is(clock.pendingTimers, 1);
  clock.advance(50);
  assert.is(ready(), 1);
  assert.equal(q.takeDue(), ['ns/a']);
  assert.is(clock.pendingTimers, 1); // re-armed for ns/b
  q.shutdown();
  assert.is(clock.pendingTimers, 0);
  assert.is(q.depth, 0);
  q.add('ns/c');
  assert.is(q.depth, 0);
});

test.run();
