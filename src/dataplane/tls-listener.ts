// The HTTPS listener (listener.tls): a tls.Server whose secure sockets go to the plaintext
// Listener's routing (`listener.route(socket, isH2)` with isH2 from ALPN), so HTTP/1.1, h2 and gRPC
// over TLS take exactly the request path of the plaintext port. Certificates come from
// kubernetes.io/tls Secrets read as files (tls.crt, tls.key); the SNI name picks one (exact names,
// then a one-label wildcard, from each certificate's DNS SANs, its CN when it has none); the first
// certificate is the default. A changed Secret rebuilds the contexts: new handshakes see the new
// certificate, open connections keep theirs. With clientAuth, client certificates are verified
// against the CA Secret's ca.crt; the verified identity is kept on the socket (client-cert.ts).

import tls from 'node:tls';
import type net from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { ListenerTlsIR } from '../ir/snapshot.ts';
import type { Listener } from './listener.ts';
import type { SecretSource } from './secrets.ts';
import { edgeMetrics, type EdgeMetrics } from './edge-metrics.ts';
import { rememberClientCert } from './client-cert.ts';

const kTlsListener = Symbol('bulkhead.tlsListener');
const ALPN = ['h2', 'http/1.1'];
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface CertEntry {
  /** `<ns>/<name>` of the Secret */
  ref: string;
  names: string[];
  ctx: tls.SecureContext;
  options: tls.SecureContextOptions;
}

interface CertSet {
  exact: Map<string, CertEntry>;
  wildcard: Map<string, CertEntry>;
  fallback: CertEntry | null;
}

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export class TlsListener {
  readonly server: tls.Server;
  private ir: ListenerTlsIR;
  private set: CertSet = { exact: new Map(), wildcard: new Map(), fallback: null };
  /** the last good entry of each certificate Secret: kept while a rotation is half-written */
  private readonly lastGood = new Map<string, CertEntry>();
  private readonly watched = new Set<string>();
  readonly metrics: EdgeMetrics;

  constructor(
    readonly listener: Listener,
    private readonly secrets: SecretSource,
    ir: ListenerTlsIR,
    private readonly log: Log,
  ) {
    this.ir = ir;
    this.metrics = edgeMetrics(listener.rt.metrics);
    this.server = tls.createServer({
      ALPNProtocols: ALPN,
      // a handshake that has not finished by then is dropped (Node's default is 120 s)
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      // one closure per listener (Node calls it with the socket as `this`)
      SNICallback: (name, cb) => cb(null, this.contextFor(name)),
      minVersion: tlsVersion(ir.minVersion),
    });
    (this.server as unknown as Record<symbol, unknown>)[kTlsListener] = this;
    this.server.on('secureConnection', onSecureConnection);
    this.server.on('tlsClientError', onTlsClientError);
    secrets.onChange((ns, name) => {
      if (this.watched.has(`${ns}/${name}`)) this.rebuild();
    });
    this.configure(ir);
  }

  /** A new snapshot's listener.tls (the port stays the one bound at start). */
  configure(ir: ListenerTlsIR): void {
    this.ir = ir;
    const s = this.server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
    s.requestCert = ir.clientAuth !== null;
    s.rejectUnauthorized = ir.clientAuth?.mode === 'Required';
    this.rebuild();
  }

  get clientAuth(): ListenerTlsIR['clientAuth'] {
    return this.ir.clientAuth;
  }

  listen(port: number, host: string, backlog: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stop accepting; open connections belong to the Listener (drained and closed there). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      setImmediate(resolve);
    });
  }

  /** The context for an SNI name: exact, then `*.<parent>`, then the default certificate. */
  contextFor(servername: string): tls.SecureContext | undefined {
    const name = servername.toLowerCase();
    const set = this.set;
    const dot = name.indexOf('.');
    const hit =
      set.exact.get(name) ?? (dot > 0 ? set.wildcard.get('*' + name.slice(dot)) : undefined) ?? set.fallback;
    return hit?.ctx;
  }

  /** Re-read the Secrets and rebuild every context; a certificate that fails keeps its last good one. */
  rebuild(): void {
    const ir = this.ir;
    const minVersion = tlsVersion(ir.minVersion);
    let ca: Buffer | undefined;
    this.watched.clear();
    if (ir.clientAuth !== null) {
      const ref = ir.clientAuth.caSecretRef;
      this.watched.add(`${ref.namespace}/${ref.name}`);
      ca = this.secrets.get(ref.namespace, ref.name, 'ca.crt') ?? undefined;
      // no CA: no client certificate can verify; Required then refuses every client (fail closed)
      if (ca === undefined)
        this.log.warn({ secret: `${ref.namespace}/${ref.name}`, key: 'ca.crt' }, 'client CA missing');
    }
    const next: CertSet = { exact: new Map(), wildcard: new Map(), fallback: null };
    for (const c of ir.certificates) {
      const ref = `${c.secretRef.namespace}/${c.secretRef.name}`;
      this.watched.add(ref);
      const entry = this.load(ref, c.secretRef.namespace, c.secretRef.name, minVersion, ca);
      if (entry === null) continue;
      next.fallback ??= entry;
      for (const n of entry.names) {
        const map = n.startsWith('*.') ? next.wildcard : next.exact;
        if (!map.has(n)) map.set(n, entry); // the first certificate naming a host wins
      }
    }
    this.set = next;
    if (next.fallback !== null) this.server.setSecureContext(next.fallback.options);
  }

  private load(
    ref: string,
    ns: string,
    name: string,
    minVersion: tls.SecureVersion,
    ca: Buffer | undefined,
  ): CertEntry | null {
    const cert = this.secrets.get(ns, name, 'tls.crt');
    const key = this.secrets.get(ns, name, 'tls.key');
    const keep = this.lastGood.get(ref) ?? null;
    if (cert === null || key === null) {
      this.log.warn({ secret: ref, keys: ['tls.crt', 'tls.key'] }, 'certificate Secret missing');
      return keep;
    }
    try {
      const options: tls.SecureContextOptions = { cert, key, minVersion };
      if (ca !== undefined) options.ca = ca;
      const entry: CertEntry = {
        ref,
        names: certNames(cert),
        ctx: tls.createSecureContext(options),
        options,
      };
      this.lastGood.set(ref, entry);
      return entry;
    } catch (err) {
      // never the key's bytes: only which Secret and what OpenSSL said
      this.log.warn(
        { secret: ref, error: (err as Error).message },
        'certificate not loaded; keeping the last good one',
      );
      return keep;
    }
  }
}

/** DNS names a certificate serves: its DNS SANs, else its subject CN; lower-cased. */
export function certNames(pem: Buffer): string[] {
  const x = new X509Certificate(pem);
  const names: string[] = [];
  for (const part of (x.subjectAltName ?? '').split(',')) {
    const p = part.trim();
    if (p.startsWith('DNS:')) names.push(p.slice(4).toLowerCase());
  }
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject);
    if (cn) names.push(cn[1]!.toLowerCase());
  }
  return names;
}

function tlsVersion(v: 'TLS1.2' | 'TLS1.3'): tls.SecureVersion {
  return v === 'TLS1.3' ? 'TLSv1.3' : 'TLSv1.2';
}

function onSecureConnection(this: tls.Server, socket: tls.TLSSocket): void {
  const tl = (this as unknown as Record<symbol, TlsListener>)[kTlsListener]!;
  socket.on('error', ignoreError);
  if (tl.clientAuth !== null && !rememberClientCert(socket)) {
    // Optional mode: no certificate is fine, a certificate that does not verify is not
    tl.metrics.handshake(false, 'client-certificate-invalid');
    socket.destroy();
    return;
  }
  const h2 = socket.alpnProtocol === 'h2';
  tl.metrics.handshake(true, h2 ? 'h2' : 'http/1.1');
  tl.listener.route(socket, h2);
}

function onTlsClientError(this: tls.Server, err: Error & { code?: string }, socket: tls.TLSSocket): void {
  const tl = (this as unknown as Record<symbol, TlsListener>)[kTlsListener]!;
  tl.metrics.handshake(false, handshakeReason(err));
  socket.destroy();
}

function handshakeReason(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (code === 'ECONNRESET') return 'reset';
  if (code.includes('CERTIFICATE') || /certificate/i.test(err.message)) return 'client-certificate';
  if (code.includes('VERSION') || code.includes('PROTOCOL')) return 'protocol-version';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER') return 'no-shared-cipher';
  if (/timed? ?out/i.test(err.message)) return 'timeout';
  return 'other';
}

function ignoreError(): void {
  // the protocol servers handle errors on the connections they own
}
