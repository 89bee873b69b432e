// The nginx configurations the benchmark runner generates must be accepted by the real nginx
// (`nginx -t`), so a broken peer config is caught here and not in the middle of a benchmark run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  backendConfig,
  grpcProxyConfig,
  httpProxyConfig,
  httpsProxyConfig,
  nginxArgs,
  writeNginxConfig,
} from '../../bench/nginx-config.ts';
import { nginxBinary } from '../../bench/peers.ts';
import { writeBenchCert } from '../../bench/tls.ts';

const root = mkdtempSync(join(tmpdir(), 'bh-bench-nginx-'));

function nginxTest(
  name: string,
  build: (prefix: string) => string,
): { status: number | null; output: string } {
  const prefix = join(root, name);
  const files = writeNginxConfig(prefix, build(prefix));
  const r = spawnSync(nginxBinary(), nginxArgs(files, true), { encoding: 'utf8', timeout: 10_000 });
  if (r.error)
    throw new Error(`nginx could not run (${r.error.message}); install it with scripts/setup-system.sh`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('backend config passes nginx -t', () => {
  const r = nginxTest('backend', (prefix) => backendConfig({ prefix, port: 18080 }));
  assert.is(r.status, 0, r.output);
});

test('HTTP reverse proxy config passes nginx -t', () => {
  const r = nginxTest('proxy', (prefix) => httpProxyConfig({ prefix, port: 18081, backendPort: 18080 }));
  assert.is(r.status, 0, r.output);
});

test('gRPC (grpc_pass over h2c) config passes nginx -t', () => {
  const r = nginxTest('grpc', (prefix) => grpcProxyConfig({ prefix, port: 18082, backendPort: 18083 }));
  assert.is(r.status, 0, r.output);
});

test('HTTPS reverse proxy config (TLS 1.3 only, the openssl-made bench certificate) passes nginx -t', () => {
  const cert = writeBenchCert(join(root, 'secrets'));
  const r = nginxTest('https', (prefix) =>
    httpsProxyConfig({
      prefix,
      port: 18085,
      backendPort: 18080,
      certFile: cert.certFile,
      keyFile: cert.keyFile,
    }),
  );
  assert.is(r.status, 0, r.output);
  const text = httpsProxyConfig({ prefix: '/p', port: 1, backendPort: 2, certFile: 'c', keyFile: 'k' });
  assert.match(text, /listen 127\.0\.0\.1:1 ssl backlog=4096;/);
  assert.match(text, /ssl_protocols TLSv1\.3;/);
});

test('nginx -t rejects a broken config (the check is real)', () => {
  const r = nginxTest('broken', (prefix) =>
    httpProxyConfig({ prefix, port: 18084, backendPort: 18080 }).replace('proxy_pass', 'proxy_pas'),
  );
  assert.is.not(r.status, 0);
  assert.match(r.output, /unknown directive "proxy_pas"/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
