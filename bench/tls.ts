// TLS for the benchmark's HTTPS suite: one self-signed EC P-256 certificate for `bench.local`, made
// with the openssl CLI in the run's temp folder and written as the kubernetes.io/tls Secret files
// Bulkhead reads through `--secrets` (`<dir>/bench/bench-tls/tls.crt`, `tls.key`); the nginx HTTPS
// peer loads the same two files. And the check every HTTPS peer must pass before it is measured:
// the backend's exact body over TLS 1.3, the certificate verified against itself for bench.local,
// and a TLS 1.2-only handshake refused (so wrk, which cannot say what it negotiated, can only have
// used TLS 1.3).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { BACKEND_BODY } from './nginx-config.ts';

export const BENCH_TLS_NAME = 'bench.local';
export const BENCH_TLS_SECRET = { namespace: 'bench', name: 'bench-tls' };

export interface BenchCert {
  certFile: string;
  keyFile: string;
  /** the certificate itself, the client's only trusted CA in the checks */
  certPem: string;
}

/** Writes the certificate and key into `<secretsDir>/bench/bench-tls/`; returns their paths. */
export function writeBenchCert(secretsDir: string): BenchCert {
  const dir = path.join(secretsDir, BENCH_TLS_SECRET.namespace, BENCH_TLS_SECRET.name);
  mkdirSync(dir, { recursive: true });
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  const args = [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${BENCH_TLS_NAME}`,
    '-addext',
    `subjectAltName=DNS:${BENCH_TLS_NAME}`,
  ];
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT')
      throw new Error('BH_BENCH_NO_OPENSSL: openssl not found; run scripts/setup-system.sh');
    throw new Error(`BH_BENCH_CERT: openssl req failed: ${e.stderr?.toString() ?? String(err)}`);
  }
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}

function get(
  port: number,
  certPem: string,
  timeoutMs: number,
): Promise<{ status: number; body: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/bench-check',
        servername: BENCH_TLS_NAME,
        ca: certPem,
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const protocol = (res.socket as tls.TLSSocket).getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`BH_BENCH_CHECK: HTTPS check on :${port} timed out`)));
    req.on('error', reject);
  });
}

/** Resolves when a TLS 1.2-only client is refused; rejects when the handshake succeeds. */
function refusesTls12(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      servername: BENCH_TLS_NAME,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      timeout: timeoutMs,
    });
    s.once('secureConnect', () => {
      s.destroy();
      reject(new Error(`BH_BENCH_CHECK: HTTPS peer on :${port} accepted a TLS 1.2 handshake`));
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error(`BH_BENCH_CHECK: TLS 1.2 probe on :${port} timed out`));
    });
    s.once('error', () => resolve());
  });
}

export async function checkHttps(port: number, certPem: string, timeoutMs = 3000): Promise<void> {
  const r = await get(port, certPem, timeoutMs);
  if (r.status !== 200 || r.body !== BACKEND_BODY)
    throw new Error(
      `BH_BENCH_CHECK: HTTPS check on :${port} got ${r.status} ${JSON.stringify(r.body.slice(0, 200))}`,
    );
  if (r.protocol !== 'TLSv1.3')
    throw new Error(`BH_BENCH_CHECK: HTTPS check on :${port} negotiated ${r.protocol}, not TLSv1.3`);
  await refusesTls12(port, timeoutMs);
}
