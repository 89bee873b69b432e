// Global mode's Redis client: one connection per referenced Secret (namespace/name/key), kept across
// snapshots, carrying every Global decision of the rules that use that Secret.
//
// No request ever waits on a connection: commands go out only while the connection is ready and
// writable (ioredis with enableOfflineQueue false, no retries, no resend after a reconnect); while it
// is not, a decision fails at once and the rule's failureMode applies. Each decision has its own
// timer (global.timeout); a reply that comes after it is dropped.
//
// Redis answers one connection's commands in order, so decisions wait in a FIFO and one callback,
// bound once per connection, takes the head: no closure per request. A decision is only sent when
// ioredis will queue it behind the earlier ones (ready + writable), which keeps the FIFO aligned with
// ioredis's own command queue; a NOSCRIPT answer re-sends the decision with EVAL at the tail, which
// is again the order of sending. At most MAX_IN_FLIGHT decisions wait on one connection (a stalled
// Redis fills it within the timeout; the rest fail fast as `overflow`).
//
// The URL is read from the Secret file; when the file changes the client reconnects to the new URL.

import { Redis } from 'ioredis';
import type { SecretSource } from '../secrets.ts';
import { GCRA_LUA, GCRA_SHA } from './gcra-script.ts';
import type { RateLimitMetrics } from './metrics.ts';

export const MAX_IN_FLIGHT = 10_000;

/** Who asked: told exactly once per sent decision. */
export interface GlobalRequester {
  answered(e: GlobalEntry, allowed: boolean, remaining: number, retryMs: number, resetMs: number): void;
  failed(e: GlobalEntry, reason: string): void;
  /** handling an answer threw (a bug): the request gets a 500 */
  broken(e: GlobalEntry): void;
}

export class GlobalEntry {
  settled = false;
  start = 0;
  timer: NodeJS.Timeout | null = null;
  constructor(
    readonly requester: GlobalRequester,
    /** the requester's own state (a request's decision) */
    readonly state: object,
    /** the requester's rule */
    readonly rule: object,
    readonly key: string,
    readonly intervalUs: number,
    readonly capacity: number,
    readonly cost: number,
  ) {}
}

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

class Connection {
  readonly fifo: (GlobalEntry | null)[] = [];
  head = 0;
  readonly onReply: (err: Error | null | undefined, res: unknown) => void;
  constructor(
    readonly redis: Redis,
    private readonly limiter: RedisLimiter,
  ) {
    this.onReply = this.reply.bind(this);
  }

  get inFlight(): number {
    return this.fifo.length - this.head;
  }

  writable(): boolean {
    const r = this.redis;
    return r.status === 'ready' && r.stream !== undefined && r.stream.writable;
  }

  send(e: GlobalEntry, script: boolean): void {
    this.fifo.push(e);
    const a = [e.key, e.intervalUs, e.capacity, e.cost] as const;
    if (script) void this.redis.eval(GCRA_LUA, 1, a[0], a[1], a[2], a[3], this.onReply);
    else void this.redis.evalsha(GCRA_SHA, 1, a[0], a[1], a[2], a[3], this.onReply);
  }

  private reply(err: Error | null | undefined, res: unknown): void {
    if (this.head >= this.fifo.length) return;
    const e = this.fifo[this.head]!;
    this.fifo[this.head++] = null;
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
    if (e.settled) return;
    try {
      if (!err) return this.limiter.answer(e, res as number[]);
      if (String(err.message).startsWith('NOSCRIPT') && this.writable()) return this.send(e, true);
      this.limiter.fail(e, 'error');
    } catch (bug) {
      // ioredis rethrows from callbacks: a bug here must cost one request, never the process
      this.limiter.bug(e, bug);
    }
  }
}

export class RedisLimiter {
  private conn: Connection | null = null;
  private url = '';
  private closed = false;
  private readonly pool: string;

  constructor(
    private readonly ref: { namespace: string; name: string; key: string },
    private readonly secrets: SecretSource,
    private readonly metrics: RateLimitMetrics,
    private readonly log: Log,
  ) {
    this.pool = metrics.base.pool;
    secrets.onChange((ns, name, key) => {
      if (!this.closed && ns === ref.namespace && name === ref.name && key === ref.key) this.connect();
    });
    this.connect();
  }

  /** Send a decision; false when it cannot be sent now (the caller applies its failure mode). */
  send(e: GlobalEntry, timeoutMs: number): boolean {
    const c = this.conn;
    const why =
      c === null ? 'no-url' : !c.writable() ? 'unavailable' : c.inFlight >= MAX_IN_FLIGHT ? 'overflow' : '';
    if (why !== '') {
      this.metrics.redisErrors.labels(this.pool, why).inc();
      return false;
    }
    e.start = performance.now();
    e.timer = setTimeout(onTimeout, timeoutMs, this, e);
    c!.send(e, false);
    return true;
  }

  answer(e: GlobalEntry, r: number[]): void {
    e.settled = true;
    clearTimeout(e.timer!);
    this.metrics.redisDuration.labels(this.pool).observe((performance.now() - e.start) / 1000);
    e.requester.answered(e, r[0] === 1, r[1]!, r[2]!, r[3]!);
  }

  fail(e: GlobalEntry, reason: string): void {
    if (e.settled) return;
    e.settled = true;
    if (e.timer !== null) clearTimeout(e.timer);
    this.metrics.redisErrors.labels(this.pool, reason).inc();
    e.requester.failed(e, reason);
  }

  bug(e: GlobalEntry, err: unknown): void {
    this.log.warn({ err: String(err) }, 'rate limit: decision failed');
    try {
      e.requester.broken(e);
    } catch {
      // nothing more to do for this request
    }
  }

  private connect(): void {
    const ref = this.ref;
    const where = `${ref.namespace}/${ref.name}/${ref.key}`;
    const url = this.secrets.get(ref.namespace, ref.name, ref.key)?.toString('utf8').trim() ?? '';
    if (url === this.url && this.conn !== null) return;
    this.url = url;
    const old = this.conn;
    this.conn = null;
    if (url === '')
      this.log.warn({ secret: where }, 'rate limit: Redis URL Secret not mounted; failureMode applies');
    else {
      try {
        const redis = new Redis(url, {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          autoResendUnfulfilledCommands: false,
          connectTimeout: 2000,
          retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
        });
        let up = false;
        redis.on('ready', () => {
          up = true;
          this.log.info({ secret: where }, 'rate limit: Redis connected');
          redis.script('LOAD', GCRA_LUA).catch(() => undefined);
        });
        redis.on('error', (err: Error) => {
          if (up) this.log.warn({ secret: where, err: err.message }, 'rate limit: Redis connection lost');
          up = false;
        });
        this.conn = new Connection(redis, this);
      } catch (err) {
        this.log.warn({ secret: where, err: (err as Error).message }, 'rate limit: bad Redis URL');
      }
    }
    if (old !== null) old.redis.quit().catch(() => old.redis.disconnect());
  }

  close(): void {
    this.closed = true;
    const c = this.conn;
    this.conn = null;
    if (c !== null) c.redis.disconnect();
  }
}

function onTimeout(l: RedisLimiter, e: GlobalEntry): void {
  e.timer = null;
  l.fail(e, 'timeout');
}
