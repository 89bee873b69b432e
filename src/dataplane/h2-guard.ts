// Per-connection guards for the HTTP/2 side of the data port. One hostile h2 connection may cost
// itself its connection, never the process or the other clients:
// - nghttp2's own limits, set through the server options: concurrent streams per connection (a
//   pile-up of unread streams stays bounded), memory per session, header list size and pairs,
//   SETTINGS entries, outstanding PINGs, refused and invalid frames. nghttp2 also ends a session whose
//   peer floods it with frames that need an answer (SETTINGS, PING: at most 1,000 queued ACKs) or with
//   CONTINUATION frames (a few per header block).
// - rapid reset (CVE-2023-44487): streams the client resets before their response ended are counted
//   per session in one-second windows; over the limit the session gets GOAWAY ENHANCE_YOUR_CALM and is
//   destroyed. Streams already reset when their HEADERS are dispatched count too and are dropped.
// - every session and stream handler runs inside try/catch: an exception closes that stream (or the
//   session) with INTERNAL_ERROR, is counted in bulkhead_connection_errors_total and logged with the
//   peer address and stream id. What escapes anyway (an event handler further down the request path)
//   reaches the process guard (process-guard.ts).

import http2 from 'node:http2';
import type { ProxyRuntime } from './context.ts';
import { kRuntime } from './context.ts';
import { onH2Stream } from './proxy.ts';
import { onH2Connect } from './websocket-h2.ts';
import { penalize } from './h2-penalty.ts';
import { kExchange, type Exchange } from './exchange.ts';
import type { IdleTracked } from './h2-session-idle.ts';

const C = http2.constants;

/** The limits every h2 connection gets. Not per pool yet: field-tested numbers, documented here. */
export const H2_LIMITS = {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams open at once on one connection (nginx and Envoy: 100-128) */
  maxConcurrentStreams: 100,
  /** streams a client may reset before their response ended, per connection and second */
  maxResetsPerSecond: 200,
  /** nghttp2's RST_STREAM token bucket: burst, then resets per second (nghttp2's defaults: 1000, 33) */
  resetBurst: 200,
  resetRate: 100,
  /** nghttp2's memory budget per session (MB): outbound queue, header tables, stream state */
  maxSessionMemoryMb: 32,
  /** header fields per header block (Node's default is 128) */
  maxHeaderListPairs: 256,
  /** PINGs we sent and that are not acknowledged yet */
  maxOutstandingPings: 10,
  /** entries per SETTINGS frame */
  maxSettings: 32,
  /** streams refused (over the concurrency limit) before the session is closed */
  maxSessionRejectedStreams: 100,
  /** invalid frames before the session is closed */
  maxSessionInvalidFrames: 1000,
  /**
   * SETTINGS_INITIAL_WINDOW_SIZE: request-body bytes a client may send per stream before we read them
   * (Node's default is 65,535). Data buffered unread per connection is bounded by this times the
   * stream limit: 12.8 MB (6.4 MB with Node's default).
   */
  streamWindowBytes: 128 * 1024,
  /** the connection's receive window (WINDOW_UPDATE once per MiB instead of per 32 KiB of bodies) */
  sessionWindowBytes: 1024 * 1024,
} as const;

/** What connection errors are counted as (the `reason` label): a fixed, small set. */
export const GuardReason = {
  rapidReset: 'rapid_reset',
  handlerException: 'handler_exception',
  /** nghttp2 or Node ended the session for a protocol violation or flood (the code is logged) */
  protocol: 'h2_protocol',
  uncaughtException: 'uncaught_exception',
  unhandledRejection: 'unhandled_rejection',
} as const;

export function h2ServerOptions(maxHeaderBytes: number, connectProtocol: boolean): http2.ServerOptions {
  return {
    settings: h2Settings(maxHeaderBytes, connectProtocol),
    maxSessionMemory: H2_LIMITS.maxSessionMemoryMb,
    paddingStrategy: C.PADDING_STRATEGY_NONE,
    maxHeaderListPairs: H2_LIMITS.maxHeaderListPairs,
    maxOutstandingPings: H2_LIMITS.maxOutstandingPings,
    maxSettings: H2_LIMITS.maxSettings,
    maxSessionRejectedStreams: H2_LIMITS.maxSessionRejectedStreams,
    maxSessionInvalidFrames: H2_LIMITS.maxSessionInvalidFrames,
    // nghttp2's own token bucket for incoming RST_STREAM (Node >= 20.12; not in @types/node 20):
    // checked frame by frame, so a flood is cut inside the read that carries it
    streamResetBurst: H2_LIMITS.resetBurst,
    streamResetRate: H2_LIMITS.resetRate,
  } as http2.ServerOptions;
}

export function h2Settings(maxHeaderBytes: number, connectProtocol: boolean): http2.Settings {
  return {
    enableConnectProtocol: connectProtocol,
    maxHeaderListSize: maxHeaderBytes,
    maxConcurrentStreams: H2_LIMITS.maxConcurrentStreams,
    initialWindowSize: H2_LIMITS.streamWindowBytes,
  };
}

const kGuard = Symbol('bulkhead.h2Guard');

/**
 * Per-session state, in a symbol slot of the session and of each of its streams. Its stream count
 * also tells the listener's idle sweep (h2-session-idle.ts) when the session has nothing open.
 */
export class SessionGuard implements IdleTracked {
  openStreams = 0;
  streamSeen = true;
  idleMs = 0;
  idleSince = 0;
  private windowStart = 0;
  private resets = 0;
  calmed = false;

  constructor(
    readonly rt: ProxyRuntime,
    readonly session: http2.ServerHttp2Session,
  ) {}

  /** a stream reset by the peer before its response ended; over the limit: GOAWAY and close */
  reset(): void {
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.resets = 0;
    }
    if (++this.resets > H2_LIMITS.maxResetsPerSecond) this.calm(GuardReason.rapidReset);
  }

  /** GOAWAY ENHANCE_YOUR_CALM, then the session is destroyed (its open streams with it) */
  calm(reason: string): void {
    if (this.calmed) return;
    this.calmed = true;
    this.rt.metrics.connectionError(reason);
    penalize(this.session.socket?.remoteAddress);
    this.rt.accessLog.logger.warn(
      { reason, peer: peerOf(this.session), openStreams: this.openStreams },
      'h2 session closed: ENHANCE_YOUR_CALM',
    );
    closeWith(this.session, C.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

export function guardOf(x: object): SessionGuard | undefined {
  return (x as Record<symbol, SessionGuard | undefined>)[kGuard];
}

function peerOf(session: http2.Http2Session | undefined): string {
  const s = session?.socket;
  return s === undefined || s === null ? '' : `${s.remoteAddress ?? ''}:${s.remotePort ?? ''}`;
}

/** A new session: state slot, error accounting, and the guarded stream dispatch. */
export function guardSession(rt: ProxyRuntime, session: http2.ServerHttp2Session): SessionGuard {
  const g = new SessionGuard(rt, session);
  const slots = session as unknown as Record<symbol, unknown>;
  slots[kGuard] = g;
  slots[kRuntime] = rt;
  session.setLocalWindowSize(H2_LIMITS.sessionWindowBytes);
  session.on('error', onSessionError);
  session.on('stream', onSessionStream);
  return g;
}

function onSessionError(this: http2.ServerHttp2Session, err: NodeJS.ErrnoException): void {
  // socket errors (ECONNRESET, EPIPE) are a client going away; Node's ERR_HTTP2_* errors are the
  // session being ended for a protocol violation or a flood nghttp2 detected
  const code = err.code ?? '';
  if (!code.startsWith('ERR_HTTP2')) return;
  const g = guardOf(this);
  if (g === undefined || g.calmed) return;
  g.calmed = true;
  g.rt.metrics.connectionError(GuardReason.protocol);
  penalize(this.socket?.remoteAddress);
  g.rt.accessLog.logger.warn(
    { code, err: err.message, peer: peerOf(this) },
    'h2 session ended by the protocol layer',
  );
}

function onSessionStream(
  this: http2.ServerHttp2Session,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  flags: number,
  raw: string[],
): void {
  const g = guardOf(this)!;
  // HEADERS and RST_STREAM in one read: the stream is gone before its 'stream' event runs
  if (stream.destroyed || stream.closed) return g.reset();
  g.openStreams++;
  (stream as unknown as Record<symbol, SessionGuard>)[kGuard] = g;
  // 'close' comes once: `on` spares the once-wrapper closure and its removal per stream
  stream.on('close', onGuardedStreamClose);
  // an 'error' without a listener throws: every stream has one before any handler runs
  stream.on('error', ignoreError);
  try {
    if (headers[':method'] === 'CONNECT') {
      onH2Connect(g.rt, stream, headers);
    } else onH2Stream.call(this, stream, headers, raw);
  } catch (err) {
    streamFailed(g, stream, err, 'stream');
  }
}

function onGuardedStreamClose(this: http2.ServerHttp2Stream): void {
  const slots = this as unknown as Record<symbol, unknown>;
  const g = slots[kGuard] as SessionGuard;
  g.openStreams--;
  g.streamSeen = true;
  // closed before our response ended, by the peer (or by us after a failure: rare, and bounded)
  if (this.aborted && !g.calmed) g.reset();
  // the proxied request's accounting (exchange.ts), from this listener rather than a second one
  const ex = slots[kExchange] as Exchange | undefined;
  if (ex !== undefined) ex.complete();
}

/** An exception out of a stream handler: that stream is reset, the session and the process go on. */
export function streamFailed(
  g: SessionGuard,
  stream: http2.ServerHttp2Stream,
  err: unknown,
  where: string,
): void {
  g.rt.metrics.connectionError(GuardReason.handlerException);
  g.rt.accessLog.logger.error(
    {
      where,
      err: err instanceof Error ? err.stack : String(err),
      peer: peerOf(g.session),
      stream: stream.id,
    },
    'h2 stream handler failed; stream reset',
  );
  try {
    if (!stream.destroyed) stream.close(C.NGHTTP2_INTERNAL_ERROR);
  } catch {
    stream.destroy();
  }
}

/** An exception out of a session-level handler: that session is destroyed. */
export function sessionFailed(
  rt: ProxyRuntime,
  session: http2.ServerHttp2Session,
  err: unknown,
  where: string,
): void {
  rt.metrics.connectionError(GuardReason.handlerException);
  rt.accessLog.logger.error(
    { where, err: err instanceof Error ? err.stack : String(err), peer: peerOf(session) },
    'h2 session handler failed; session closed',
  );
  const g = guardOf(session);
  if (g !== undefined) g.calmed = true;
  closeWith(session, C.NGHTTP2_INTERNAL_ERROR);
}

// GOAWAY with the code first, then destroy() without an Error: an Error (or a code passed to destroy)
// would be re-emitted as 'error' on every stream of the session, including streams whose 'stream'
// event has not run yet and that have no listener, which would throw out of the event loop
function closeWith(session: http2.ServerHttp2Session, code: number): void {
  if (session.destroyed) return;
  if (!session.closed) session.goaway(code);
  session.destroy();
}

function ignoreError(): void {
  // stream errors end in 'close', which the request path accounts for
}
