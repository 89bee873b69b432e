// The gRPC health checking protocol (grpc.health.v1.Health/Check) for H2C clusters' active checks.
// One h2c session per endpoint is kept open between probes (a gRPC server is probed the way it is
// called: over a long-lived HTTP/2 connection) and replaced when it fails or a probe times out.
// The two protobuf messages are tiny and encoded by hand: HealthCheckRequest { string service = 1 }
// and HealthCheckResponse { ServingStatus status = 1 } with SERVING = 1.

import * as http2 from 'node:http2';
import type tls from 'node:tls';
import type { EndpointState } from '../balancer/index.ts';

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
const SERVING = 1;
const USER_AGENT = 'bulkhead-health-check';

/** The length-prefixed gRPC message carrying HealthCheckRequest { service }. */
export function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body: number[] = [];
  if (name.length > 0) {
    body.push(0x0a); // field 1, wire type 2 (length-delimited)
    for (let n = name.length; ; n >>>= 7) {
      if (n < 0x80) {
        body.push(n);
        break;
      }
      body.push((n & 0x7f) | 0x80);
    }
  }
  const msg = Buffer.concat([Buffer.from(body), name]);
  const frame = Buffer.alloc(5 + msg.length);
  frame.writeUInt32BE(msg.length, 1);
  msg.copy(frame, 5);
  return frame;
}

/** `status` of the first HealthCheckResponse in a gRPC body; -1 when absent or malformed. */
export function decodeHealthStatus(body: Buffer): number {
  if (body.length < 5 || body[0] !== 0) return -1; // compressed or truncated: not something we asked for
  const end = 5 + body.readUInt32BE(1);
  if (end > body.length) return -1;
  let pos = 5;
  let status = 0; // proto3: an absent enum field is its zero value (UNKNOWN)
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw new RangeError('truncated varint');
      const b = body[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (pos < end) {
      const tag = varint();
      const wire = tag & 7;
      if (tag >>> 3 === 1 && wire === 0) status = varint();
      else if (wire === 0) varint();
      else if (wire === 1) pos += 8;
      else if (wire === 2) {
        const n = varint(); // read before adding: `pos += varint()` would add to the old pos
        pos += n;
      } else if (wire === 5) pos += 4;
      else return -1;
    }
  } catch {
    return -1;
  }
  return pos === end ? status : -1;
}

function origin(ep: EndpointState, secure: boolean): string {
  const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
  return `${secure ? 'https' : 'http'}://${host}:${ep.port}`;
}

export class GrpcHealthProber {
  private readonly sessions = new Map<EndpointState, http2.ClientHttp2Session>();
  /** the TLS material the open sessions were made with (a rotation opens new sessions) */
  private tls: tls.ConnectionOptions | null = null;

  constructor(private readonly service: string) {}

  /**
   * Resolves true for SERVING; false for any other status, a gRPC error, a timeout or a failure.
   * `tlsOptions`: the cluster's upstream TLS (the probe speaks to the backend as traffic does).
   */
  check(
    ep: EndpointState,
    timeoutMs: number,
    signal: AbortSignal,
    tlsOptions: tls.ConnectionOptions | null = null,
  ): Promise<boolean> {
    if (tlsOptions !== this.tls) {
      this.retain(null);
      this.tls = tlsOptions;
    }
    return new Promise((resolve) => {
      let session: http2.ClientHttp2Session;
      try {
        session = this.session(ep);
      } catch {
        return resolve(false);
      }
      const chunks: Buffer[] = [];
      let headStatus: string | undefined;
      let settled = false;
      const finish = (ok: boolean, dropSession = false): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL);
        if (dropSession) this.drop(ep, session);
        resolve(ok);
      };
      const onAbort = (): void => finish(false);
      // a probe that does not answer in time may sit on a dead connection: start afresh next time
      const timer = setTimeout(() => finish(false, true), timeoutMs);
      timer.unref();
      signal.addEventListener('abort', onAbort);
      const req = session.request({
        ':method': 'POST',
        ':path': HEALTH_CHECK_PATH,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
        'user-agent': USER_AGENT,
      });
      req.on('response', (h) => {
        if (h[':status'] !== 200) return finish(false);
        headStatus = h['grpc-status'] as string | undefined; // trailers-only answer
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('trailers', (t) => {
        headStatus ??= t['grpc-status'] as string | undefined;
      });
      req.on('end', () =>
        finish(headStatus === '0' && decodeHealthStatus(Buffer.concat(chunks)) === SERVING),
      );
      req.on('error', () => finish(false));
      req.on('close', () => finish(false));
      req.end(encodeHealthRequest(this.service));
    });
  }

  /** Close the sessions of endpoints that left the cluster, or all of them. */
  retain(live: Set<EndpointState> | null): void {
    for (const [ep, s] of this.sessions) if (live === null || !live.has(ep)) this.drop(ep, s);
  }

  private session(ep: EndpointState): http2.ClientHttp2Session {
    const s = this.sessions.get(ep);
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const t = this.tls;
    const fresh =
      t === null
        ? http2.connect(origin(ep, false), { settings: { enablePush: false } })
        : http2.connect(origin(ep, true), { ...t, settings: { enablePush: false } });
    fresh.on('error', () => this.drop(ep, fresh));
    fresh.on('close', () => this.drop(ep, fresh));
    fresh.on('goaway', () => this.drop(ep, fresh));
    fresh.unref();
    this.sessions.set(ep, fresh);
    return fresh;
  }

  private drop(ep: EndpointState, s: http2.ClientHttp2Session): void {
    if (this.sessions.get(ep) === s) this.sessions.delete(ep);
    if (!s.destroyed) s.destroy();
  }
}
