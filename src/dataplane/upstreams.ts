// Connections to upstream endpoints, shared by every snapshot that names the same endpoint: an
// Http1Endpoint (pooled sockets, idle-capped) per HTTP/1.1 endpoint, one multiplexed HTTP/2 session per h2c endpoint. Pools outlive
// snapshot swaps (keep-alive connections survive a config change) and are closed gracefully, letting
// in-flight requests finish, once no snapshot names them any more.

import http2 from 'node:http2';
import { Http1Endpoint } from './upstream-pool.ts';
import type tls from 'node:tls';
import type { UpstreamConnIR } from '../ir/snapshot.ts';
import type { UpstreamTls } from './upstream-tls.ts';
import { installAsyncBind } from './async-bind.ts';
import { SessionIdleSweep, type IdleTracked } from './h2-session-idle.ts';

const kSlot = Symbol('bulkhead.upstream');
const kEndpoint = Symbol('bulkhead.h2endpoint');

export interface UpstreamTarget {
  readonly address: string;
  readonly port: number;
}

interface Slot {
  gen: number;
  connectMs: number;
  h2: boolean;
  /** UpstreamTls.version, 0 for plaintext */
  tls: number;
  up: Http1Endpoint | H2Endpoint;
}

/**
 * Receive windows of upstream sessions. A stream's window bounds the response bytes buffered while its
 * client reads slowly (the exchange pauses the stream), so it stays small: 128 KiB (Node's default is
 * 64 KiB; 128 KiB per stream still fills a 1 ms round trip at 128 MB/s), at most ~1.3 GB for the
 * 10,000 requests the default overload limit admits. The session's window only sets how often a
 * WINDOW_UPDATE goes out, since Node hands the session's share back as soon as data arrives.
 */
export const H2_UPSTREAM_WINDOW = { stream: 128 * 1024, session: 8 * 1024 * 1024 } as const;

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * One h2c endpoint: a session, replaced when it closes or receives GOAWAY, and closed once no stream
 * was open on it for the idle timeout (the sweep below; attempts count their streams here, so streams
 * still running on a session already replaced keep the new one from counting as idle too).
 */
export class H2Endpoint implements IdleTracked {
  private session: http2.ClientHttp2Session | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** true once the current session finished its handshake */
  connected = false;
  /** h2c attempts with a stream open (upstream-h2.ts) */
  openStreams = 0;
  streamSeen = true;
  idleSince = 0;
  readonly origin: string;
  readonly scheme: 'http' | 'https';

  constructor(
    address: string,
    port: number,
    readonly connectMs: number,
    readonly idleMs: number,
    private readonly tls: tls.ConnectionOptions | null = null,
  ) {
    // session.request() binds an AsyncResource per stream: the cheaper bind (async-bind.ts)
    installAsyncBind();
    this.scheme = tls === null ? 'http' : 'https';
    this.origin = `${this.scheme}://${hostPort(address, port)}`;
  }

  get(): http2.ClientHttp2Session {
    const s = this.session;
    if (s !== null && !s.closed && !s.destroyed) return s;
    if (this.closed)
      throw Object.assign(new Error('upstream endpoint removed'), { code: 'BH_UPSTREAM_CLOSED' });
    return this.open();
  }

  private open(): http2.ClientHttp2Session {
    this.connected = false;
    const opts: http2.SecureClientSessionOptions = {
      settings: { enablePush: false, initialWindowSize: H2_UPSTREAM_WINDOW.stream },
      peerMaxConcurrentStreams: 1000,
      paddingStrategy: http2.constants.PADDING_STRATEGY_NONE,
    };
    const s = http2.connect(this.origin, this.tls === null ? opts : { ...opts, ...this.tls });
    (s as unknown as Record<symbol, H2Endpoint>)[kEndpoint] = this;
    s.on('connect', onSessionConnect);
    s.on('goaway', onSessionGone);
    s.on('close', onSessionGone);
    s.on('error', onSessionError);
    this.connectTimer = setTimeout(onConnectTimeout, this.connectMs, this, s);
    this.session = s;
    if (this.idleMs > 0) upstreamIdle.add(this);
    return s;
  }

  detach(s: http2.ClientHttp2Session): void {
    if (this.session === s) {
      this.session = null;
      this.connected = false;
      upstreamIdle.delete(this);
    }
    this.clearTimer();
  }

  /** no stream for the idle timeout: new requests get a new session, this one closes gracefully */
  idle(): void {
    const s = this.session;
    if (s === null) return;
    this.detach(s);
    s.close();
  }

  clearTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  close(force: boolean): void {
    this.closed = true;
    const s = this.session;
    this.session = null;
    this.clearTimer();
    upstreamIdle.delete(this);
    if (s !== null && !s.destroyed) force ? s.destroy() : s.close();
  }
}

function endpointOf(s: http2.ClientHttp2Session): H2Endpoint {
  return (s as unknown as Record<symbol, H2Endpoint>)[kEndpoint]!;
}
function onSessionConnect(this: http2.ClientHttp2Session): void {
  const ep = endpointOf(this);
  ep.connected = true;
  ep.clearTimer();
  // a session torn down between its handshake and this event keeps Node's window; nothing to raise
  if (!this.destroyed && !this.closed) this.setLocalWindowSize(H2_UPSTREAM_WINDOW.session);
}
function onSessionGone(this: http2.ClientHttp2Session): void {
  endpointOf(this).detach(this);
}
function onSessionError(this: http2.ClientHttp2Session): void {
  // streams see the error themselves; the endpoint only forgets this session
  endpointOf(this).detach(this);
}
// idle timeouts of upstream sessions, without node:http2's per-frame timer refresh
const upstreamIdle = new SessionIdleSweep<H2Endpoint>(onEndpointIdle);
function onEndpointIdle(ep: H2Endpoint): void {
  ep.idle();
}
function onConnectTimeout(ep: H2Endpoint, s: http2.ClientHttp2Session): void {
  if (ep.connected) return;
  ep.detach(s);
  s.destroy(
    Object.assign(new Error(`connect timeout after ${ep.connectMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
  );
}

export class UpstreamRegistry {
  private readonly live = new Map<string, Slot>();
  private gen = 0;
  private settings: UpstreamConnIR | null = null;

  /** Called once per snapshot before routes resolve upstreams; a settings change retires every pool. */
  configure(settings: UpstreamConnIR): void {
    const prev = this.settings;
    if (
      prev !== null &&
      prev.maxIdlePerEndpoint === settings.maxIdlePerEndpoint &&
      prev.idleTimeoutMs === settings.idleTimeoutMs &&
      prev.maxRequestsPerConnection === settings.maxRequestsPerConnection
    )
      return;
    this.settings = settings;
    this.gen++;
    const old = [...this.live.values()];
    this.live.clear();
    for (const slot of old) closeSlot(slot, false);
  }

  /** The pool or session for an endpoint; cached on the endpoint object so lookups cost a property read. */
  get(ep: UpstreamTarget, h2: boolean, connectMs: number, tls?: UpstreamTls): Http1Endpoint | H2Endpoint {
    const tv = tls === undefined ? 0 : tls.refresh();
    const cached = (ep as unknown as Record<symbol, Slot | undefined>)[kSlot];
    if (
      cached !== undefined &&
      cached.gen === this.gen &&
      cached.connectMs === connectMs &&
      cached.h2 === h2 &&
      cached.tls === tv
    )
      return cached.up;
    const prefix = `${h2 ? 'h2' : 'h1'}|${ep.address}|${ep.port}|${connectMs}|`;
    // one lineage per TLS setting (clusters with different CAs may share endpoints), one key per version
    const lineage = tls === undefined ? prefix : `${prefix}${tls.id}#`;
    const key = lineage + tv;
    let slot = this.live.get(key);
    if (slot === undefined) {
      const st = this.settings!;
      const tlsOptions = tls === undefined ? null : tls.options;
      const up = h2
        ? new H2Endpoint(ep.address, ep.port, connectMs, st.idleTimeoutMs, tlsOptions)
        : new Http1Endpoint(ep.address, ep.port, {
            maxIdle: st.maxIdlePerEndpoint,
            idleTimeoutMs: st.idleTimeoutMs,
            maxRequestsPerConnection: st.maxRequestsPerConnection,
            connectMs,
            tls: tlsOptions,
          });
      slot = { gen: this.gen, connectMs, h2, tls: tv, up };
      if (tv !== 0) this.retireOtherVersions(lineage, key);
      this.live.set(key, slot);
    }
    (ep as unknown as Record<symbol, Slot>)[kSlot] = slot;
    return slot.up;
  }

  /** A rotated certificate: connections made with the old material finish their requests and close. */
  private retireOtherVersions(lineage: string, key: string): void {
    for (const [k, slot] of this.live) {
      if (k !== key && k.startsWith(lineage)) {
        this.live.delete(k);
        void closeSlot(slot, false);
      }
    }
  }

  /** Endpoints (address, port) the new snapshot names; pools of the others close once idle. */
  retain(endpoints: Iterable<UpstreamTarget>): void {
    const keep = new Set<string>();
    for (const ep of endpoints) keep.add(ep.address + '|' + ep.port);
    for (const [key, slot] of this.live) {
      const [, address, port] = key.split('|');
      if (!keep.has(address + '|' + port)) {
        this.live.delete(key);
        closeSlot(slot, false);
      }
    }
  }

  async closeAll(force: boolean): Promise<void> {
    const slots = [...this.live.values()];
    this.live.clear();
    this.gen++;
    await Promise.all(slots.map((s) => closeSlot(s, force)));
  }
}

function closeSlot(slot: Slot, force: boolean): Promise<void> {
  if (slot.up instanceof H2Endpoint) {
    slot.up.close(force);
    return Promise.resolve();
  }
  return slot.up.close(force);
}
