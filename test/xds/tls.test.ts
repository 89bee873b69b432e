// The config stream over TLS: the operator's CA signs the stream's certificate, data planes verify
// it, and the pool token is never on the wire in clear: a relay between the two records every byte
// the data plane sends, and all of them are inside TLS records (the same relay on a plaintext
// stream sees the HTTP/2 preface and frames, so the check is not vacuous).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PoolCredentials } from '../../src/xds/credentials.ts';
import { ConfigStreamServer } from '../../src/xds/server.ts';
import { ConfigStreamClient } from '../../src/xds/client.ts';
import { linkToControlPlane } from '../../src/xds/dataplane-link.ts';
import { clientCredentials } from '../../src/xds/stream-tls.ts';
import { generateWebhookCertificates } from '../../src/operator/webhook/certs.ts';
import type { PoolSnapshot } from '../../src/ir/snapshot.ts';

const creds = new PoolCredentials(Buffer.alloc(32, 9));
const TOKEN = creds.tokenFor('a/p');
const snap = { version: 'sha256:v1', pool: { namespace: 'a', name: 'p' } } as unknown as PoolSnapshot;

/** A TCP relay that keeps every byte the client sent. */
async function relay(target: number): Promise<{ port: number; seen: Buffer[]; close(): void }> {
  const seen: Buffer[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    const up = net.connect(target, '127.0.0.1');
    socks.add(c).add(up);
    c.on('data', (d: Buffer) => seen.push(d));
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    seen,
    close: () => {
      for (const s of socks) s.destroy();
      srv.close();
    },
  };
}

/** How many leading bytes form whole TLS records (content types 20-23, version 3.x). */
function tlsRecordBytes(b: Buffer): number {
  let off = 0;
  while (off + 5 <= b.length) {
    const type = b[off]!;
    if (type < 20 || type > 23 || b[off + 1] !== 3) break;
    const len = b.readUInt16BE(off + 3);
    if (off + 5 + len > b.length) break;
    off += 5 + len;
  }
  return off;
}

function client(address: string, ca: string | null) {
  const applied: string[] = [];
  const errors: string[] = [];
  const c = new ConfigStreamClient({
    address,
    pool: 'a/p',
    token: TOKEN,
    ca,
    replica: 'r1',
    backoff: { baseMs: 20, maxMs: 100 },
    appliedVersion: () => applied.at(-1) ?? null,
    apply: (s) => (applied.push(s.version), { ok: true }),
  });
  c.on('retrying', (_d: number, e: string) => errors.push(e));
  return { c, applied, errors };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const certs = generateWebhookCertificates({ hosts: ['localhost', '127.0.0.1'] });

test('over TLS the data plane verifies the operator and the token never crosses in clear', async () => {
  const tls = await certs;
  const server = new ConfigStreamServer({ credentials: creds, tls });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap);
  const r = await relay(port);
  const dp = client(`127.0.0.1:${r.port}`, tls.caCert);
  try {
    dp.c.start();
    await until(() => dp.applied.length === 1, 'snapshot applied over TLS');
    const wire = Buffer.concat(r.seen);
    assert.is(wire[0], 0x16, 'the first byte is a TLS handshake record');
    assert.is(tlsRecordBytes(wire), wire.length, 'every byte sent is inside a TLS record');
    assert.is(wire.indexOf(TOKEN), -1, 'the token is on the wire in clear');
  } finally {
    dp.c.stop();
    r.close();
    await server.close();
  }
});

test('the same relay on a plaintext (loopback) stream sees cleartext HTTP/2', async () => {
  const server = new ConfigStreamServer({ credentials: creds });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap);
  const r = await relay(port);
  const dp = client(`127.0.0.1:${r.port}`, null);
  try {
    dp.c.start();
    await until(() => dp.applied.length === 1, 'snapshot applied');
    const wire = Buffer.concat(r.seen);
    assert.is(wire.subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.ok(tlsRecordBytes(wire) < wire.length);
  } finally {
    dp.c.stop();
    r.close();
    await server.close();
  }
});

test('a certificate from another CA is refused; nothing is applied', async () => {
  const tls = await certs;
  const other = await generateWebhookCertificates({ hosts: ['127.0.0.1'] });
  const server = new ConfigStreamServer({ credentials: creds, tls });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap);
  const dp = client(`127.0.0.1:${port}`, other.caCert);
  try {
    dp.c.start();
    await until(() => dp.errors.length > 0, 'a refused handshake');
    assert.equal(dp.applied, []);
    assert.match(dp.errors[0]!, /^UNAVAILABLE/);
  } finally {
    dp.c.stop();
    await server.close();
  }
});

test('without a CA, a data plane refuses to send its token to a non-loopback address', () => {
  assert.throws(
    () => clientCredentials('bulkhead-config.bulkhead-system.svc:18000', null),
    /BH_ERR_CONFIG_STREAM_INSECURE/,
  );
  assert.throws(() => client('10.0.0.7:18000', null), /BH_ERR_CONFIG_STREAM_INSECURE/);
  // loopback stays possible for local runs
  assert.ok(clientCredentials('127.0.0.1:18000', null));
  assert.ok(clientCredentials('[::1]:18000', null));
  assert.ok(clientCredentials('localhost:18000', null));
});

test('linkToControlPlane takes ca.crt from beside the credential file (the mounted Secret)', async () => {
  const tls = await certs;
  const server = new ConfigStreamServer({ credentials: creds, tls });
  const port = await server.listen('127.0.0.1:0');
  server.publish('a/p', snap);
  const dir = mkdtempSync(join(tmpdir(), 'bh-cred-'));
  writeFileSync(join(dir, 'token'), TOKEN + '\n');
  writeFileSync(join(dir, 'ca.crt'), tls.caCert);
  let version: string | null = null;
  const link = linkToControlPlane(
    { apply: (s) => ((version = s.version), { ok: true }), version: () => version },
    { address: `127.0.0.1:${port}`, pool: 'a/p', credentialFile: join(dir, 'token') },
  );
  try {
    await until(() => version === 'sha256:v1', 'snapshot applied through the link');
  } finally {
    link.stop();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
