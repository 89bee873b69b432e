// Access logs: one JSON line per sampled request to pino's destination (async sonic-boom, stdout by
// default), shared with the pino logger that writes the process logs. `enabled` and `sampleRate` come
// from the snapshot; the sampling decision is made before any log object is built, so unsampled
// requests cost one comparison.
//
// Buffering: under load, lines gather in a 64 KB buffer so one write(2) carries ~160 lines (what
// nginx's `buffer=64k` does; every batch also costs a hand-off to libuv's threadpool); a timer
// flushes whatever is buffered every FLUSH_INTERVAL_MS, so a quiet pool's line still appears within
// 100 ms, and the buffer is written synchronously on exit. A sync destination would block the event
// loop on a slow stdout reader (a log shipper under pressure), which a proxy must not do.

import pino, { type Logger } from 'pino';

export interface AccessRecord {
  requestId: string;
  protocol: 'http1' | 'h2';
  method: string;
  host: string;
  path: string;
  route: string | null;
  cluster: string | null;
  upstream: string | null;
  status: number;
  durationMs: number;
  upstreamMs: number;
  bytesIn: number;
  bytesOut: number;
  retries: number;
  reason: string | null;
  /** the grpc-status answered ("0".."16", "unknown" when none came); null for non-gRPC requests */
  grpcStatus: string | null;
}

const str = JSON.stringify;

function strOrNull(v: string | null): string {
  return v === null ? 'null' : str(v);
}

/**
 * JSON of strings that repeat from line to line. JSON.stringify was about half the cost of building
 * a line; a Map lookup is a fraction of it. Bounded: only short strings are kept, and a full cache
 * starts over (a client sending ever new Host values only makes its own lines cost what they did).
 */
class JsonCache {
  private readonly m = new Map<string, string>();
  constructor(private readonly max: number) {}

  of(v: string): string {
    let j = this.m.get(v);
    if (j === undefined) {
      j = str(v);
      if (v.length <= 256) {
        if (this.m.size >= this.max) this.m.clear();
        this.m.set(v, j);
      }
    }
    return j;
  }

  orNull(v: string | null): string {
    return v === null ? 'null' : this.of(v);
  }
}
/** route ids, cluster names, endpoint keys, grpc statuses: bounded by the configuration */
const configJson = new JsonCache(4096);
/** methods and hosts, which clients choose: apart, so that they cannot push the others out */
const clientJson = new JsonCache(1024);

// ISO timestamps cost a Date per call; one per millisecond is enough
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** lines are handed to the destination in batches of about this many characters */
const BATCH_CHARS = 64 * 1024;

/** the longest a line waits in the buffer */
export const FLUSH_INTERVAL_MS = 100;

// `_len` is sonic-boom's count of buffered characters; flushing an empty buffer would issue an empty
// write(2) every interval, so the timer checks it first
type Destination = { write(line: string): unknown; flushSync?(): void; _len?: number };

function flushBuffered(this: AccessLog): void {
  if (this.buffered() > 0) this.flush();
}

export class AccessLog {
  /** process logs (snapshot applied/refused, ...) */
  readonly logger: Logger;
  enabled = true;
  sampleRate = 1;
  private readonly dest: Destination;
  private readonly batching: boolean;
  /**
   * Lines not yet handed to the destination. sonic-boom measures every string it is given
   * (Buffer.byteLength, which flattens a concatenated string first): once per 64 KB batch instead of
   * once per line is most of the access log's cost on the request path.
   */
  private pending = '';
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly onExit: (() => void) | null = null;

  constructor(stream?: NodeJS.WritableStream) {
    const dest =
      stream ?? pino.destination({ dest: 1, sync: false, minLength: 32 * 1024, maxWrite: 64 * 1024 });
    this.dest = dest as Destination;
    // process-log level (access lines are not filtered by it): `bulkhead dataplane --log-level` sets
    // BULKHEAD_LOG_LEVEL, which forked workers inherit
    this.logger = pino(
      {
        base: null,
        timestamp: pino.stdTimeFunctions.isoTime,
        messageKey: 'msg',
        level: process.env.BULKHEAD_LOG_LEVEL || 'info',
      },
      dest as pino.DestinationStream,
    );
    // a buffering destination (sonic-boom: ours, or one handed in) gets whole batches; any other
    // stream (tests, a pipe someone wires in) gets each line as it is written
    this.batching = typeof this.dest.flushSync === 'function';
    if (this.batching) {
      this.timer = setInterval(flushBuffered.bind(this), FLUSH_INTERVAL_MS).unref();
      this.onExit = () => this.flushSync();
      process.once('exit', this.onExit);
    }
  }

  configure(enabled: boolean, sampleRate: number): void {
    this.enabled = enabled && sampleRate > 0;
    this.sampleRate = sampleRate;
  }

  /** the sampling check; call before building an AccessRecord */
  sampled(): boolean {
    return this.enabled && (this.sampleRate >= 1 || Math.random() < this.sampleRate);
  }

  /**
   * One access line, in the same shape pino's `info(rec, 'access')` gives, to the same destination.
   * pino's serializer walks any object generically; this record has a fixed shape, so it is written
   * field by field, which takes a fraction of the time on the request path.
   */
  write(r: AccessRecord): void {
    const line =
      '{"level":30,"time":"' +
      isoNow() +
      '","requestId":' +
      str(r.requestId) +
      ',"protocol":"' +
      r.protocol +
      '","method":' +
      clientJson.of(r.method) +
      ',"host":' +
      clientJson.of(r.host) +
      ',"path":' +
      str(r.path) +
      ',"route":' +
      configJson.orNull(r.route) +
      ',"cluster":' +
      configJson.orNull(r.cluster) +
      ',"upstream":' +
      configJson.orNull(r.upstream) +
      ',"status":' +
      r.status +
      ',"durationMs":' +
      r.durationMs +
      ',"upstreamMs":' +
      r.upstreamMs +
      ',"bytesIn":' +
      r.bytesIn +
      ',"bytesOut":' +
      r.bytesOut +
      ',"retries":' +
      r.retries +
      ',"reason":' +
      strOrNull(r.reason) +
      ',"grpcStatus":' +
      configJson.orNull(r.grpcStatus) +
      ',"msg":"access"}\n';
    if (!this.batching) {
      this.dest.write(line);
      return;
    }
    this.pending += line;
    if (this.pending.length >= BATCH_CHARS) this.handOver();
  }

  private handOver(): void {
    if (this.pending === '') return;
    const batch = this.pending;
    this.pending = '';
    this.dest.write(batch);
  }

  flush(): void {
    this.handOver();
    try {
      this.logger.flush();
    } catch {
      // an async destination that is not open yet has nothing to flush
    }
  }

  buffered(): number {
    return this.pending.length + (this.dest._len ?? 0);
  }

  flushSync(): void {
    this.handOver();
    try {
      this.dest.flushSync?.();
    } catch {
      // not open yet, or a write already in flight: the async flush finishes it
    }
  }

  /** stop the flush timer and write what is buffered */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.onExit !== null) process.removeListener('exit', this.onExit);
    this.flush();
  }
}
