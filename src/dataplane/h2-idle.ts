// Coarse idle timers for h2c upstream attempts (upstream-h2.ts). node:http2's `stream.setTimeout`
// costs a Timeout object, a 'timeout' listener and a timer refresh on every frame the stream reads or
// writes, per call; the request body's send timeout cost another Timeout refreshed per chunk. Here
// every open attempt sits in one intrusive list, activity only sets a flag, and one interval timer
// (running while the list is not empty) turns flags into timestamps and calls `idleTick` on entries.
// A timeout fires between its limit and its limit plus two ticks after the last activity, never
// before the limit.

/** An entry of the sweep: an object with these fields and a tick method. */
export interface Swept {
  sweepPrev: Swept | null;
  sweepNext: Swept | null;
  /** called on every tick while listed, with the tick's time (ms, performance.now() clock) */
  idleTick(now: number): void;
}

/** ms between sweeps: the precision of read and send timeouts on h2c upstreams */
export const SWEEP_MS = 25;

let head: Swept | null = null;
let timer: NodeJS.Timeout | null = null;
let cursor: Swept | null = null;

export function sweepAdd(e: Swept): void {
  e.sweepPrev = null;
  e.sweepNext = head;
  if (head !== null) head.sweepPrev = e;
  head = e;
  if (timer === null) timer = setInterval(sweep, SWEEP_MS).unref();
}

export function sweepRemove(e: Swept): void {
  const prev = e.sweepPrev;
  const next = e.sweepNext;
  if (prev === null) {
    if (head !== e) return; // not listed
    head = next;
  } else prev.sweepNext = next;
  if (next !== null) next.sweepPrev = prev;
  // an entry removed while the sweep visits it (its own tick timed it out) must not end the walk
  if (cursor === e) cursor = next;
  e.sweepPrev = null;
  e.sweepNext = null;
}

/** entries listed (tests) */
export function sweepSize(): number {
  let n = 0;
  for (let e = head; e !== null; e = e.sweepNext) n++;
  return n;
}

function sweep(): void {
  if (head === null) {
    // idle process: stop ticking until the next attempt
    clearInterval(timer!);
    timer = null;
    return;
  }
  const now = performance.now();
  cursor = head;
  while (cursor !== null) {
    const e: Swept = cursor;
    cursor = e.sweepNext;
    e.idleTick(now);
  }
}
