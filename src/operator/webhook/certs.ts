// A self-signed CA and a serving certificate for the webhook, for tests and for `bulkhead operator`
// when no certificate Secret is mounted. node:crypto makes keys but not X.509 certificates; we
// drive the `openssl` CLI (installed by scripts/setup-system.sh and present on every image that
// runs Bulkhead's tests) rather than add node-forge: no new dependency, and native ECDSA P-256
// keys in milliseconds where a pure-JS RSA key takes a second or more.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WebhookCertificates {
  /** PEM of the CA: the caBundle (base64 of it) in the ValidatingWebhookConfiguration */
  caCert: string;
  /** PEM serving certificate signed by the CA, and its private key */
  cert: string;
  key: string;
}

export interface CertificateRequest {
  /** DNS names and IP addresses the API server will dial, e.g. bulkhead-webhook.bulkhead-system.svc or 127.0.0.1 */
  hosts: string[];
  /** validity in days; 365 by default */
  days?: number;
}

export class CertificateError extends Error {
  readonly code = 'BH_ERR_WEBHOOK_CERT';
}

/** The DNS names a Service is reached by from the API server. */
export function serviceHostnames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

export async function generateWebhookCertificates(req: CertificateRequest): Promise<WebhookCertificates> {
  if (req.hosts.length === 0)
    throw new CertificateError('BH_ERR_WEBHOOK_CERT: at least one host name or IP address is needed');
  const bad = req.hosts.find((h) => !isIP(h) && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(h));
  if (bad)
    throw new CertificateError(
      `BH_ERR_WEBHOOK_CERT: ${JSON.stringify(bad)} is neither a DNS name nor an IP address`,
    );
  const days = String(req.days ?? 365);
  const dir = await mkdtemp(join(tmpdir(), 'bh-webhook-cert-'));
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.crt'),
      '-days',
      days,
      '-subj',
      '/CN=bulkhead-webhook-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await openssl([
      'req',
      '-new',
      ...ec,
      '-keyout',
      f('tls.key'),
      '-out',
      f('tls.csr'),
      '-subj',
      `/CN=${req.hosts[0]}`,
    ]);
    const san = req.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    await writeFile(
      f('ext.cnf'),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    );
    await openssl([
      'x509',
      '-req',
      '-in',
      f('tls.csr'),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f('tls.crt'),
      '-days',
      days,
      '-extfile',
      f('ext.cnf'),
    ]);
    const [caCert, cert, key] = await Promise.all([
      readFile(f('ca.crt'), 'utf8'),
      readFile(f('tls.crt'), 'utf8'),
      readFile(f('tls.key'), 'utf8'),
    ]);
    return { caCert, cert, key };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (err: any) {
    const why =
      err?.code === 'ENOENT'
        ? 'openssl is not installed (scripts/setup-system.sh installs it)'
        : String(err?.stderr || err?.message).trim();
    throw new CertificateError(`BH_ERR_WEBHOOK_CERT: openssl ${args[0]} failed: ${why}`);
  }
}
