// Access logs: one JSON line per sampled request through pino (async destination, stdout by
// default). `enabled` and `sampleRate` come from the snapshot; the sampling decision is made before
// any log object is built, so unsampled requests cost one comparison.

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
}

export class AccessLog {
  readonly logger: Logger;
  enabled = true;
  sampleRate = 1;

  constructor(stream?: NodeJS.WritableStream) {
    const dest = stream ?? pino.destination({ dest: 1, sync: false, minLength: 4096 });
    this.logger = pino(
      { base: null, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' },
      dest as pino.DestinationStream,
    );
  }

  configure(enabled: boolean, sampleRate: number): void {
    this.enabled = enabled && sampleRate > 0;
    this.sampleRate = sampleRate;
  }

  /** the sampling check; call before building an AccessRecord */
  sampled(): boolean {
    return this.enabled && (this.sampleRate >= 1 || Math.random() < this.sampleRate);
  }

  write(rec: AccessRecord): void {
    this.logger.info(rec, 'access');
  }

  flush(): void {
    try {
      this.logger.flush();
    } catch {
      // an async destination that is not open yet has nothing to flush
    }
  }
}
