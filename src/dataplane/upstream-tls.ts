// TLS to a cluster's endpoints (ClusterIR.tls): the CA to verify the backend with, the client
// certificate for mTLS and the server name, read from Secret files. `refresh()` is called when an
// upstream connection pool is looked up; it compares the Secret files' current bytes by identity (the
// SecretFiles cache hands out the same Buffer until a file changes) and, after a rotation, bumps the
// version so the registry opens new connections with the new material (old pools drain and close).

import type tls from 'node:tls';
import type { UpstreamTlsIR } from '../ir/snapshot.ts';
import type { SecretSource } from './secrets.ts';

let versions = 0;

export class UpstreamTls {
  /** the settings (not the material): pools of one id share endpoints' connections across snapshots */
  readonly id: string;
  /** > 0; changes when the certificate material changes */
  version = 0;
  options: tls.ConnectionOptions = {};
  private ca: Buffer | null | undefined = undefined;
  private cert: Buffer | null | undefined = undefined;
  private key: Buffer | null | undefined = undefined;

  constructor(
    readonly ir: UpstreamTlsIR,
    private readonly secrets: SecretSource,
  ) {
    this.id = JSON.stringify(ir);
    this.refresh();
  }

  refresh(): number {
    const { caSecretRef: ca, clientCertificateRef: cc } = this.ir;
    const s = this.secrets;
    const caBytes = ca === null ? null : s.get(ca.namespace, ca.name, 'ca.crt');
    const cert = cc === null ? null : s.get(cc.namespace, cc.name, 'tls.crt');
    const key = cc === null ? null : s.get(cc.namespace, cc.name, 'tls.key');
    if (caBytes === this.ca && cert === this.cert && key === this.key) return this.version;
    this.ca = caBytes;
    this.cert = cert;
    this.key = key;
    // A missing CA Secret leaves no trust anchor but the public CAs: a private backend then fails
    // verification (502), never a silent fallback to trusting anything.
    const o: tls.ConnectionOptions = { servername: this.ir.serverName, rejectUnauthorized: true };
    if (caBytes !== null) o.ca = caBytes;
    if (cert !== null && key !== null) {
      o.cert = cert;
      o.key = key;
    }
    this.options = o;
    this.version = ++versions;
    return this.version;
  }
}
