// The work queue, keyed by pool (`<namespace>/<name>`). Pure apart from an injected clock, so its
// tests run on a fake one. Contour-style debouncing: a key becomes due `holdOffMs` after its last
// event, but never later than `maxHoldOffMs` after its first, so an EndpointSlice storm is one
// rebuild and a steady trickle of events still gets through. Failures are retried with a per-key
// exponential back-off; a fresh event for a failed key schedules it normally (the user may have
// fixed it), while `forget` after a success resets its back-off.

export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: QueueClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  holdOffMs?: number;
  maxHoldOffMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  clock?: QueueClock;
  /** called (from a timer) when at least one key is due */
  onReady?: () => void;
}

interface Pending {
  firstAt: number;
  due: number;
  /** waiting out a back-off rather than a hold-off */
  backingOff?: boolean;
}

export class WorkQueue {
  private readonly pending = new Map<string, Pending>();
  private readonly failures = new Map<string, number>();
  private readonly clock: QueueClock;
  private readonly holdOffMs: number;
  private readonly maxHoldOffMs: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private timer: unknown;
  private timerAt = Infinity;
  private shutDown = false;
  onReady: () => void;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.holdOffMs = opts.holdOffMs ?? 100;
    this.maxHoldOffMs = opts.maxHoldOffMs ?? 1000;
    this.baseBackoffMs = opts.baseBackoffMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 60_000;
    this.onReady = opts.onReady ?? (() => {});
  }

  /** keys waiting (due or not) */
  get depth(): number {
    return this.pending.size;
  }

  /** An event touched this key: due after the hold-off, bounded by the max hold-off. */
  add(key: string): void {
    if (this.shutDown) return;
    const now = this.clock.now();
    const p = this.pending.get(key);
    if (!p || p.backingOff) {
      this.pending.set(key, { firstAt: now, due: Math.min(p?.due ?? Infinity, now + this.holdOffMs) });
    } else {
      p.due = Math.min(Math.max(p.due, now + this.holdOffMs), p.firstAt + this.maxHoldOffMs);
    }
    this.arm();
  }

  /** Due now, no hold-off (start-up, leadership gained, forced resync). */
  addNow(key: string): void {
    if (this.shutDown) return;
    const now = this.clock.now();
    const p = this.pending.get(key);
    if (p) {
      p.due = Math.min(p.due, now);
      p.backingOff = false;
    } else this.pending.set(key, { firstAt: now, due: now });
    this.arm();
  }

  /** Processing failed: try again after this key's back-off (unless an event already made it due sooner). */
  retry(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = this.backoff(n);
    if (this.shutDown) return delay;
    const now = this.clock.now();
    const p = this.pending.get(key);
    if (!p) this.pending.set(key, { firstAt: now, due: now + delay, backingOff: true });
    this.arm();
    return delay;
  }

  /** Processing succeeded: the next failure starts from the base back-off again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  backoff(failures: number): number {
    return Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** Math.min(failures - 1, 30));
  }

  /** Removes and returns every due key (sorted, each once). */
  takeDue(): string[] {
    const now = this.clock.now();
    const out: string[] = [];
    for (const [k, p] of this.pending) if (p.due <= now) out.push(k);
    for (const k of out) this.pending.delete(k);
    this.arm();
    return out.sort();
  }

  /** When the next key becomes due, or undefined when nothing waits. */
  nextDue(): number | undefined {
    let next = Infinity;
    for (const p of this.pending.values()) next = Math.min(next, p.due);
    return next === Infinity ? undefined : next;
  }

  shutdown(): void {
    this.shutDown = true;
    this.pending.clear();
    this.disarm();
  }

  private arm(): void {
    const next = this.nextDue();
    if (next === undefined) return this.disarm();
    if (this.timer !== undefined && this.timerAt <= next) return;
    this.disarm();
    this.timerAt = next;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        const again = this.nextDue();
        if (again !== undefined && again <= this.clock.now()) this.onReady();
        else this.arm();
      },
      Math.max(0, next - this.clock.now()),
    );
  }

  private disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
