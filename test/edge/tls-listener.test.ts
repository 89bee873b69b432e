// The HTTPS listener with real TLS peers on loopback: certificates from Secret files chosen by SNI
// (exact and wildcard, the first as default), ALPN h2 and http/1.1 (curl, node:https, http2.connect,
// @grpc/grpc-js with TLS credentials), minimum version, 308 from the plaintext port, and a rotated
// certificate taking effect for new handshakes while an open connection keeps working.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import http2 from 'node:http2';
import tls from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { startDataplane, type Dataplane } from '../../src/dataplane/index.ts';
import type { ListenerTlsIR } from '../../src/ir/snapshot.ts';
import {
  closeServer,
  cluster,
  delay,
  httpBackend,
  LogSink,
  request,
  route,
  snapshot,
} from '../dataplane/fixtures.ts';
import { Pki, type Pem } from './pki.ts';

const pki = new Pki();
const ca = pki.ca('bulkhead test CA');
const shop = pki.leaf(ca, 'shop.example.com', { dns: ['shop.example.com'], usage: 'serverAuth' });
const wild = pki.leaf(ca, 'api wildcard', { dns: ['*.api.example.com'], usage: 'serverAuth' });
pki.tlsSecret('edge', 'shop-tls', shop);
pki.tlsSecret('edge', 'api-tls', wild);

let seen: IncomingHttpHeaders = {};
const be = await httpBackend((req, res) => {
  seen = req.headers;
  req.resume();
  req.on('end', () => res.end('backend'));
});

function tlsIR(over: Partial<ListenerTlsIR> = {}): ListenerTlsIR {
  return {
    port: 0,
    certificates: [
      { secretRef: { namespace: 'edge', name: 'shop-tls' } },
      { secretRef: { namespace: 'edge', name: 'api-tls' } },
    ],
    minVersion: 'TLS1.2',
    redirectHTTP: false,
    clientAuth: null,
    ...over,
  };
}

const logs = new LogSink();

async function start(t: ListenerTlsIR, routes = [route('team/web/all', 'team/web:80')]): Promise<Dataplane> {
  return startDataplane({
    snapshot: snapshot({
      routes,
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { tls: t } },
    }),
    port: 0,
    adminPort: 0,
    tlsPort: 0,
    host: '127.0.0.1',
    workers: 1,
    logStream: logs,
    secretsDir: pki.secretsDir,
    secretsPollMs: 50,
  });
}

/** The certificate the server presents for `servername` (undefined: no SNI). */
function peerCert(
  port: number,
  servername?: string,
  extra: tls.ConnectionOptions = {},
): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: '127.0.0.1', port, servername, ca: ca.cert, checkServerIdentity: () => undefined, ...extra },
      () => {
        const x = s.getPeerX509Certificate()!;
        s.end();
        resolve(x);
      },
    );
    s.on('error', reject);
  });
}

function httpsGet(port: number, servername: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, servername, ca: ca.cert, headers: { host: servername }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '5', ...args], (err, stdout, stderr) =>
      err ? reject(new Error(`curl: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

function h2Get(session: http2.ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':path': path });
    let status = 0;
    let body = '';
    s.on('response', (h) => (status = Number(h[':status'])));
    s.on('data', (c) => (body += c));
    s.on('end', () => resolve({ status, body }));
    s.on('error', reject);
    s.end();
  });
}

const fingerprint = (p: Pem) => new X509Certificate(p.cert).fingerprint256;

test('SNI picks the exact or the wildcard certificate; no SNI or an unknown name gets the first', async () => {
  const dp = await start(tlsIR());
  try {
    assert.is((await peerCert(dp.tlsPort, 'shop.example.com')).fingerprint256, fingerprint(shop));
    assert.is((await peerCert(dp.tlsPort, 'v2.api.example.com')).fingerprint256, fingerprint(wild));
    assert.is((await peerCert(dp.tlsPort, 'SHOP.example.com')).fingerprint256, fingerprint(shop));
    assert.is(
      (await peerCert(dp.tlsPort, 'a.b.api.example.com')).fingerprint256,
      fingerprint(shop),
      'one label only',
    );
    assert.is((await peerCert(dp.tlsPort)).fingerprint256, fingerprint(shop));
    const r = await httpsGet(dp.tlsPort, 'shop.example.com');
    assert.is(r.status, 200);
    assert.is(r.body, 'backend');
    assert.is(seen['x-forwarded-proto'], 'https');
  } finally {
    await dp.close();
  }
});

test('curl verifies both certificates by name (--cacert --resolve), over HTTP/1.1 and h2 by ALPN', async () => {
  const dp = await start(tlsIR());
  try {
    const p = dp.tlsPort;
    const cafile = `${pki.work}/${ca.name}.crt`;
    const one = await curl([
      '--cacert',
      cafile,
      '--resolve',
      `shop.example.com:${p}:127.0.0.1`,
      '--http1.1',
      '-w',
      ' %{http_version}',
      `https://shop.example.com:${p}/`,
    ]);
    assert.is(one, 'backend 1.1');
    const two = await curl([
      '--cacert',
      cafile,
      '--resolve',
      `x.api.example.com:${p}:127.0.0.1`,
      '--http2',
      '-w',
      ' %{http_version}',
      `https://x.api.example.com:${p}/`,
    ]);
    assert.is(two, 'backend 2');
  } finally {
    await dp.close();
  }
});

test('gRPC over TLS with @grpc/grpc-js TLS credentials reaches the route (h2 by ALPN)', async () => {
  // the backend is plain HTTP/1.1, so the answer is the proxy's translation of a non-gRPC reply;
  // what matters here is that grpc-js's TLS handshake and ALPN h2 reach the router
  const dp = await start(tlsIR(), [route('team/web/all', 'team/web:80')]);
  const client = new grpc.Client(`127.0.0.1:${dp.tlsPort}`, grpc.credentials.createSsl(ca.cert), {
    'grpc.ssl_target_name_override': 'shop.example.com',
    'grpc.default_authority': 'shop.example.com',
  });
  try {
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        '/test.Echo/Unary',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from('hi'),
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (e) => resolve(e),
      ),
    );
    assert.ok(seen['content-type']?.startsWith('application/grpc'), 'the gRPC request reached the backend');
    assert.is(seen['x-forwarded-proto'], 'https');
    assert.ok(err === null || err.code !== grpc.status.UNAVAILABLE, String(err));
  } finally {
    client.close();
    await dp.close();
  }
});

test('minVersion TLS1.3 refuses a TLS 1.2-only client', async () => {
  const dp = await start(tlsIR({ minVersion: 'TLS1.3' }));
  try {
    const old = await peerCert(dp.tlsPort, 'shop.example.com', { maxVersion: 'TLSv1.2' }).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    assert.match(old, /version|alert/i);
    assert.ok(await peerCert(dp.tlsPort, 'shop.example.com'));
    const m = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    assert.match(m, /bulkhead_tls_handshakes_total\{[^}]*result="failed"[^}]*\} [1-9]/);
    assert.match(m, /bulkhead_tls_handshakes_total\{[^}]*result="ok"[^}]*\} [1-9]/);
  } finally {
    await dp.close();
  }
});

test('redirectHTTP: 308 from the plaintext port to the same host, path and query on the HTTPS port', async () => {
  const dp = await start(tlsIR({ redirectHTTP: true, port: 8443 }));
  try {
    const r = await request(dp.port, {
      path: '/cart/items?id=7',
      headers: { host: 'shop.example.com:8080' },
    });
    assert.is(r.status, 308);
    assert.is(r.headers.location, 'https://shop.example.com:8443/cart/items?id=7');
    const s = await httpsGet(dp.tlsPort, 'shop.example.com', '/cart');
    assert.is(s.status, 200, 'no redirect over TLS');
  } finally {
    await dp.close();
  }
});

test('a rotated certificate: new handshakes get it, an open h2 connection keeps working', async () => {
  pki.tlsSecret('rot', 'site', pki.leaf(ca, 'rot1', { dns: ['rot.example.com'], usage: 'serverAuth' }));
  const before = new X509Certificate(readFileSync(`${pki.secretsDir}/rot/site/tls.crt`)).fingerprint256;
  const dp = await start(tlsIR({ certificates: [{ secretRef: { namespace: 'rot', name: 'site' } }] }));
  const session = http2.connect(`https://rot.example.com:${dp.tlsPort}`, {
    ca: ca.cert,
    host: '127.0.0.1',
    servername: 'rot.example.com',
  } as http2.SecureClientSessionOptions);
  try {
    assert.is((await h2Get(session, '/a')).status, 200);
    assert.is((await peerCert(dp.tlsPort, 'rot.example.com')).fingerprint256, before);
    const next = pki.leaf(ca, 'rot2', { dns: ['rot.example.com'], usage: 'serverAuth' });
    pki.tlsSecret('rot', 'site', next);
    let now = before;
    for (let i = 0; i < 100 && now === before; i++) {
      await delay(50);
      now = (await peerCert(dp.tlsPort, 'rot.example.com')).fingerprint256;
    }
    assert.is(now, fingerprint(next), 'a new handshake sees the new certificate');
    assert.is((await h2Get(session, '/b')).status, 200, 'the open connection keeps working');
    assert.is(session.socket.destroyed, false);
  } finally {
    session.close();
    await dp.close();
  }
});

test('no key material in /config or the logs (a missing Secret is logged by name only)', async () => {
  const dp = await start(
    tlsIR({ certificates: [{ secretRef: { namespace: 'edge', name: 'absent' } }, ...tlsIR().certificates] }),
  );
  try {
    const config = await (await fetch(`http://127.0.0.1:${dp.adminPort}/config`)).text();
    assert.ok(config.includes('shop-tls'), 'the reference is there');
    assert.not.match(config, /BEGIN|PRIVATE/);
    assert.ok(
      logs.lines.some((l) => l.includes('edge/absent')),
      'the missing Secret is named',
    );
    assert.not.ok(logs.lines.some((l) => /BEGIN|PRIVATE KEY/.test(l)));
    assert.is((await peerCert(dp.tlsPort, 'shop.example.com')).fingerprint256, fingerprint(shop));
  } finally {
    await dp.close();
  }
});

test('teardown', async () => {
  await closeServer(be);
  pki.close();
});

test.run();
