// Idle timeouts of HTTP/2 sessions, both sides: client sessions of the data port (listener.ts, the
// listener's keep-alive timeout) and h2c upstream sessions (upstreams.ts, the upstream idle timeout).
// node:http2's `session.setTimeout` refreshes a Timeout (re-inserted in the timer list, the loop clock
// read) on every frame the session or any of its streams reads or writes, several times per gRPC call
// on each side. Here a session is idle when none of its streams is open and none opened or closed
// since the last tick: the request path only counts streams and sets a flag, and one coarse interval
// timer per sweep turns that into idle times. A session idle for its limit gets `onIdle` between the
// limit and the limit plus two ticks after its last stream, never before. Frames without streams
// (PING, SETTINGS) do not count as activity, as with Envoy's idle_timeout ("no active streams").

/** What a swept session exposes: its stream count, an activity flag, and its limit. */
export interface IdleTracked {
  /** streams open on the session now */
  openStreams: number;
  /** set when a stream opens or closes; the sweep clears it */
  streamSeen: boolean;
  /** the idle limit in ms; 0 or less: never idle */
  idleMs: number;
  /** sweep bookkeeping: when the session was last seen busy (performance.now() clock) */
  idleSince: number;
}

/** tick bounds: a limit is checked about four times over, at most every 25 ms, at least every second */
const MIN_TICK_MS = 25;
const MAX_TICK_MS = 1000;

function tickFor(idleMs: number): number {
  return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(idleMs / 4)));
}

export class SessionIdleSweep<T extends IdleTracked> {
  private readonly entries = new Set<T>();
  private timer: NodeJS.Timeout | null = null;
  private tickMs = 0;

  constructor(private readonly onIdle: (e: T) => void) {}

  add(e: T): void {
    e.streamSeen = true;
    e.idleSince = performance.now();
    this.entries.add(e);
    this.fit(e.idleMs);
  }

  delete(e: T): void {
    this.entries.delete(e);
  }

  /** A limit changed (listener settings): tick often enough for it. */
  fit(idleMs: number): void {
    if (idleMs <= 0) return;
    const want = tickFor(idleMs);
    if (this.timer !== null && this.tickMs <= want) return;
    this.stop();
    this.tickMs = want;
    this.timer = setInterval(sweepTick, want, this as { tick(): void }).unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  tick(): void {
    if (this.entries.size === 0) return this.stop();
    const now = performance.now();
    for (const e of this.entries) {
      if (e.streamSeen || e.openStreams > 0) {
        e.streamSeen = false;
        e.idleSince = now;
      } else if (e.idleMs > 0 && now - e.idleSince >= e.idleMs) {
        e.idleSince = now; // once per idle period, should onIdle keep the session
        this.onIdle(e);
      }
    }
  }
}

function sweepTick(s: { tick(): void }): void {
  s.tick();
}
