// Test PKI made with the openssl CLI (installed by scripts/setup-system.sh): CAs, server and client
// certificates (P-256 keys, two-day validity) written as Secret files `<dir>/<ns>/<name>/<key>`,
// the layout `bulkhead dataplane --secrets <dir>` reads.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl not found: run scripts/setup-system.sh');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

export interface Pem {
  cert: Buffer;
  key: Buffer;
}

export class Pki {
  readonly work = mkdtempSync(join(tmpdir(), 'bh-pki-'));
  readonly secretsDir = join(this.work, 'secrets');
  private n = 0;

  /** A self-signed CA named `cn`. */
  ca(cn: string): Pem & { name: string } {
    const name = `ca${++this.n}`;
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      this.work,
    );
    return { name, ...this.read(name) };
  }

  /** A leaf certificate signed by `ca`: `dns`/`uris` as SANs, for server or client use. */
  leaf(
    ca: { name: string },
    cn: string,
    opts: { dns?: string[]; uris?: string[]; usage: 'serverAuth' | 'clientAuth' },
  ): Pem {
    const name = `leaf${++this.n}`;
    const sans = [...(opts.dns ?? []).map((d) => `DNS:${d}`), ...(opts.uris ?? []).map((u) => `URI:${u}`)];
    const ext = [
      'basicConstraints=CA:FALSE',
      `extendedKeyUsage=${opts.usage}`,
      ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
    ].join('\n');
    writeFileSync(join(this.work, `${name}.ext`), ext + '\n');
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/O=bulkhead-test/CN=${cn}`,
      ],
      this.work,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${ca.name}.crt`,
        '-CAkey',
        `${ca.name}.key`,
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      ],
      this.work,
    );
    return this.read(name);
  }

  /** Write (or replace, atomically like a Secret volume update) a kubernetes.io/tls Secret's files. */
  tlsSecret(ns: string, name: string, pem: Pem): void {
    this.secretFile(ns, name, 'tls.crt', pem.cert);
    this.secretFile(ns, name, 'tls.key', pem.key);
  }

  secretFile(ns: string, name: string, key: string, value: Buffer | string): void {
    const dir = join(this.secretsDir, ns, name);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${key}.tmp`);
    writeFileSync(tmp, value);
    renameSync(tmp, join(dir, key));
  }

  close(): void {
    rmSync(this.work, { recursive: true, force: true });
  }

  private read(name: string): Pem {
    return {
      cert: readFileSync(join(this.work, `${name}.crt`)),
      key: readFileSync(join(this.work, `${name}.key`)),
    };
  }
}
