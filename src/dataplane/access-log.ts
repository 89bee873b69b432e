// Access logs: one JSON line per sampled request to pino's destination (async sonic-boom, stdout by
// default), shared with the pino logger that writes the process logs. `enabled` and `sampleRate` come
// from the snapshot; the sampling decision is made before any log object is built, so unsampled
// requests cost one comparison.
//
// Buffering: each line is encoded straight into a 64 KB buffer, and a full buffer goes to sonic-boom
// (buffer mode) as it is, so one write(2) on libuv's threadpool carries ~200 lines, what nginx's
// `buffer=64k` does. A timer hands over whatever is buffered every FLUSH_INTERVAL_MS, so a quiet
// pool's line still appears within 100 ms, and the buffer is written synchronously on exit. A sync
// destination would block the event loop on a slow stdout reader (a log shipper under pressure),
// which a proxy must not do; instead, past MAX_PENDING_BYTES waiting for the reader, batches are
// dropped (counted in `droppedBytes`) rather than grown without bound.

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

/** lines are handed to the destination in batches of about this many bytes */
const BATCH_BYTES = 64 * 1024;
/** what may wait for a slow reader of the destination before batches are dropped */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
/** room past BATCH_BYTES for the line that fills a batch */
const SLACK_BYTES = 16 * 1024;

/** the longest a line waits in the buffer */
export const FLUSH_INTERVAL_MS = 100;

// sonic-boom in buffer mode, as the AccessLog creates it
type Destination = {
  write(data: Buffer): unknown;
  flush(): void;
  flushSync(): void;
  destroy(): void;
  /** bytes buffered in sonic-boom, not yet written */
  _len: number;
};

function flushBuffered(this: AccessLog): void {
  if (this.buffered() > 0) this.flush();
}

export class AccessLog {
  /** process logs (snapshot applied/refused, ...) */
  readonly logger: Logger;
  enabled = true;
  sampleRate = 1;
  /** the batching destination; null when lines go to a stream handed in, one write per line */
  private readonly dest: Destination | null = null;
  private readonly stream: NodeJS.WritableStream | null = null;
  /**
   * Lines not yet handed to the destination, already UTF-8: each line is encoded here as it is
   * written, so its concatenated pieces die young, and a full batch goes to write(2) as it is. A
   * string batch cost a flatten, a byte count and a UTF-8 encode of 64 KB per batch, and kept a
   * batch's worth of string pieces alive across scavenges.
   */
  private batch = Buffer.allocUnsafeSlow(BATCH_BYTES + SLACK_BYTES);
  private used = 0;
  /** bytes dropped because the reader of the destination fell MAX_PENDING_BYTES behind */
  droppedBytes = 0;
  /** failed writes to the destination; the first one gives the destination up */
  destinationErrors = 0;
  private failed = false;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly onExit: (() => void) | null = null;

  /**
   * @param stream lines written one by one to this stream (tests, the demo's file stream)
   * @param file   without a stream: append to this file instead of stdout (the benchmark's peer)
   */
  constructor(stream?: NodeJS.WritableStream, file?: string) {
    const opts = {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      // process-log level (access lines are not filtered by it): `bulkhead dataplane --log-level`
      // sets BULKHEAD_LOG_LEVEL, which forked workers inherit
      level: process.env.BULKHEAD_LOG_LEVEL || 'info',
    };
    if (stream !== undefined) {
      this.stream = stream;
      this.logger = pino(opts, stream as pino.DestinationStream);
      return;
    }
    const dest = pino.destination({
      dest: file ?? 1,
      sync: false,
      maxWrite: BATCH_BYTES + SLACK_BYTES,
      maxLength: MAX_PENDING_BYTES,
      contentMode: 'buffer',
    }) as unknown as Destination;
    this.dest = dest;
    const events = dest as unknown as NodeJS.EventEmitter;
    events.on('drop', (data: Buffer) => {
      this.droppedBytes += data.length;
    });
    // A destination whose write fails (EPIPE: the log reader is gone) is given up, and the error is
    // never thrown into the proxy (sonic-boom emits it; without a listener it would be an uncaught
    // exception). What the destination held, and every line after, counts as dropped.
    events.on('error', () => {
      this.destinationErrors++;
      if (this.failed) return;
      this.failed = true;
      this.droppedBytes += dest._len + this.used;
      this.used = 0;
      try {
        dest.destroy();
      } catch {
        // not open: nothing to close
      }
    });
    // process log lines (rare) go through the same destination, after the access lines before them
    const processLines = {
      write: (line: string): void => {
        this.handOver();
        if (this.failed) this.droppedBytes += Buffer.byteLength(line);
        else dest.write(Buffer.from(line));
      },
      flush: (): void => {
        if (!this.failed) dest.flush();
      },
      flushSync: (): void => {
        if (!this.failed) dest.flushSync();
      },
    };
    this.logger = pino(opts, processLines as unknown as pino.DestinationStream);
    this.timer = setInterval(flushBuffered.bind(this), FLUSH_INTERVAL_MS).unref();
    this.onExit = () => this.flushSync();
    process.once('exit', this.onExit);
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
    if (this.dest === null) {
      this.stream!.write(line);
      return;
    }
    if (this.used + line.length * 3 > this.batch.length) {
      this.handOver();
      // a line longer than a batch (a huge path) goes alone
      if (line.length * 3 > this.batch.length) {
        if (this.failed) this.droppedBytes += Buffer.byteLength(line);
        else this.dest.write(Buffer.from(line));
        return;
      }
    }
    this.used += this.batch.write(line, this.used, 'utf8');
    if (this.used >= BATCH_BYTES) this.handOver();
  }

  /** the lines gathered so far to the destination; the next ones go to a fresh batch */
  private handOver(): void {
    if (this.used === 0 || this.dest === null) return;
    if (this.failed) {
      this.droppedBytes += this.used;
      this.used = 0;
      return;
    }
    const full = this.batch.subarray(0, this.used);
    this.batch = Buffer.allocUnsafeSlow(BATCH_BYTES + SLACK_BYTES);
    this.used = 0;
    this.dest.write(full);
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
    return this.used + (this.dest?._len ?? 0);
  }

  flushSync(): void {
    this.handOver();
    if (this.failed) return;
    try {
      this.dest?.flushSync();
    } catch {
      // not open yet, or a write already in flight: the async flush finishes it
    }
  }

  /** stop the flush timer and write what is buffered */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.flush();
    // the exit hook stays while a write is still on its way, so a process.exit() right after close()
    // loses nothing; with nothing left it goes (test processes create many data planes)
    if (this.onExit !== null && this.buffered() === 0) process.removeListener('exit', this.onExit);
  }
}
