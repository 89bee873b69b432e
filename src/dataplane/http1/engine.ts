// The HTTP/1.1 engine: takes accepted sockets (after the listener's h2c sniffing) and serves them
// with http1/connection.ts, calling `onRequest(req, res)` per request and `onUpgrade(req, socket,
// head)` for WebSocket upgrades, both with the engine as `this`. One sweeper per engine checks
// every connection's deadline (header, body-rate, keep-alive, linger) a few times per timeout,
// instead of a timer per request. Settings apply to connections accepted after `configure`; open
// connections keep the settings they started with.

import type net from 'node:net';
import type { ClientSocket } from '../raw-socket.ts';
import type { Http1Request } from './request.ts';
import type { Http1Response } from './response.ts';
import type { Reject } from './reject.ts';
import { Http1Connection } from './connection.ts';

export interface Http1Settings {
  /** request line + header section, bytes (431 above, 414 when the request line alone is over) */
  readonly maxHeaderBytes: number;
  /** header fields per request (431 above; never truncated) */
  readonly maxHeaderCount: number;
  /** request-target length (414 above) */
  readonly maxUriBytes: number;
  /** accept or first byte of a request → end of its head; 0 = none */
  readonly headerTimeoutMs: number;
  /** idle time between requests on a kept-alive connection; 0 = none */
  readonly keepAliveTimeoutMs: number;
  /** requests per connection, the last one answered with `Connection: close`; 0 = no limit */
  readonly maxRequestsPerConnection: number;
  /** a request body may take this long plus 1 s per `bodyMinBytesPerSec` bytes; 0 = no limit */
  readonly bodyGraceMs: number;
  /** minimum average body rate after the grace period; 0 = `bodyGraceMs` is an overall limit */
  readonly bodyMinBytesPerSec: number;
}

/** Defaults for the settings the snapshot does not carry (see docs/HTTP1-ENGINE.md). */
export const HTTP1_DEFAULTS = {
  maxHeaderCount: 100,
  bodyGraceMs: 20_000,
  bodyMinBytesPerSec: 500,
} as const;

export type RequestHandler = (this: Http1Engine, req: Http1Request, res: Http1Response) => void;
export type UpgradeHandler = (this: Http1Engine, req: Http1Request, socket: net.Socket, head: Buffer) => void;

export class Http1Engine {
  readonly conns = new Set<Http1Connection>();
  draining = false;
  /** optional hooks for metrics and logs */
  onReject: ((r: Reject) => void) | null = null;
  onHandlerError: ((err: unknown) => void) | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private sweepMs = 0;

  constructor(
    public settings: Http1Settings,
    readonly onRequest: RequestHandler,
    readonly onUpgrade: UpgradeHandler,
  ) {}

  accept(socket: ClientSocket): Http1Connection {
    const c = new Http1Connection(this, socket, this.settings);
    this.conns.add(c);
    if (this.sweeper === null) this.arm();
    return c;
  }

  configure(s: Http1Settings): void {
    this.settings = s;
    if (this.sweeper !== null && sweepInterval(s) !== this.sweepMs) {
      clearInterval(this.sweeper);
      this.arm();
    }
  }

  /** Drain: idle connections close now; busy ones answer with `Connection: close` and then close. */
  closeIdle(): void {
    this.draining = true;
    for (const c of this.conns) if (c.idle) c.closeGracefully();
  }

  close(): void {
    this.draining = true;
    for (const c of [...this.conns]) c.socket.destroy();
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  rejected(r: Reject): void {
    this.onReject?.(r);
  }

  failed(err: unknown): void {
    this.onHandlerError?.(err);
  }

  private arm(): void {
    this.sweepMs = sweepInterval(this.settings);
    this.sweeper = setInterval(sweep, this.sweepMs, this);
    this.sweeper.unref();
  }
}

/** a quarter of the shortest timeout, within 20 ms .. 1 s */
function sweepInterval(s: Http1Settings): number {
  let min = 4000;
  for (const t of [s.headerTimeoutMs, s.keepAliveTimeoutMs, s.bodyGraceMs]) if (t > 0 && t < min) min = t;
  return Math.max(20, Math.min(1000, Math.floor(min / 4)));
}

function sweep(e: Http1Engine): void {
  const now = Date.now();
  for (const c of e.conns) if (c.deadline !== 0 && now >= c.deadline) c.onDeadline();
}
