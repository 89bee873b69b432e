// Client certificates on the HTTPS listener against a CA Secret: Required refuses a client without
// a certificate and one signed by another CA; the verified identity reaches the backend in
// x-forwarded-client-cert (Hash, Subject, DNS/URI SANs), and a client's own copy never does.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import http2 from 'node:http2';
import WebSocket, { WebSocketServer } from 'ws';
import type { IncomingHttpHeaders } from 'node:http';
import { startDataplane, type Dataplane } from '../../src/dataplane/index.ts';
import type { ListenerTlsIR } from '../../src/ir/snapshot.ts';
import { closeServer, cluster, httpBackend, LogSink, route, snapshot } from '../dataplane/fixtures.ts';
import { Pki, type Pem } from './pki.ts';

const pki = new Pki();
const ca = pki.ca('server CA');
const partners = pki.ca('partners CA');
const stranger = pki.ca('someone else');
pki.tlsSecret('edge', 'site', pki.leaf(ca, 'site', { dns: ['site.example.com'], usage: 'serverAuth' }));
pki.secretFile('edge', 'partners-ca', 'ca.crt', partners.cert);
const good = pki.leaf(partners, 'acme-client', {
  dns: ['client.acme.example'],
  uris: ['spiffe://acme/billing'],
  usage: 'clientAuth',
});
const foreign = pki.leaf(stranger, 'intruder', { dns: ['client.acme.example'], usage: 'clientAuth' });

let seen: IncomingHttpHeaders = {};
const be = await httpBackend((req, res) => {
  seen = req.headers;
  req.resume();
  req.on('end', () => res.end('ok'));
});
const wss = new WebSocketServer({ server: be });
wss.on('connection', (ws, req) => {
  seen = req.headers;
  ws.send('welcome');
});

async function start(mode: 'Optional' | 'Required'): Promise<Dataplane> {
  const t: ListenerTlsIR = {
    port: 0,
    certificates: [{ secretRef: { namespace: 'edge', name: 'site' } }],
    minVersion: 'TLS1.2',
    redirectHTTP: false,
    clientAuth: { mode, caSecretRef: { namespace: 'edge', name: 'partners-ca' } },
  };
  return startDataplane({
    snapshot: snapshot({
      routes: [route('team/web/all', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { tls: t } },
    }),
    port: 0,
    adminPort: 0,
    tlsPort: 0,
    host: '127.0.0.1',
    workers: 1,
    logStream: new LogSink(),
    secretsDir: pki.secretsDir,
  });
}

function get(port: number, client: Pem | null, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: 'site.example.com',
        ca: ca.cert,
        agent: false,
        headers: { host: 'site.example.com', ...headers },
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const refused = (p: Promise<number>) =>
  p.then(
    (s) => `answered ${s}`,
    (e: Error) => `refused: ${e.message}`,
  );

test('Required: no certificate and another CA are refused; a partner certificate passes with its identity', async () => {
  const dp = await start('Required');
  try {
    assert.match(await refused(get(dp.tlsPort, null)), /^refused/);
    assert.match(await refused(get(dp.tlsPort, foreign)), /^refused/);
    assert.is(
      await get(dp.tlsPort, good, { 'x-forwarded-client-cert': 'Hash=forged;Subject="CN=admin"' }),
      200,
    );
    const xfcc = String(seen['x-forwarded-client-cert']);
    const hash = new X509Certificate(good.cert).fingerprint256.replace(/:/g, '').toLowerCase();
    assert.is(
      xfcc,
      `Hash=${hash};Subject="O=bulkhead-test,CN=acme-client";DNS=client.acme.example;URI=spiffe://acme/billing`,
    );
  } finally {
    await dp.close();
  }
});

test('Optional: no certificate passes without identity (a forged header is stripped); a bad one is refused', async () => {
  const dp = await start('Optional');
  try {
    assert.is(await get(dp.tlsPort, null, { 'x-forwarded-client-cert': 'Hash=forged' }), 200);
    assert.is(seen['x-forwarded-client-cert'], undefined);
    assert.match(await refused(get(dp.tlsPort, foreign)), /^refused/);
    assert.is(await get(dp.tlsPort, good), 200);
    assert.match(
      String(seen['x-forwarded-client-cert']),
      /^Hash=[0-9a-f]{64};Subject="O=bulkhead-test,CN=acme-client"/,
    );
  } finally {
    await dp.close();
  }
});

test('h2 by ALPN carries the identity too', async () => {
  const dp = await start('Required');
  const s = http2.connect(`https://site.example.com:${dp.tlsPort}`, {
    host: '127.0.0.1',
    servername: 'site.example.com',
    ca: ca.cert,
    cert: good.cert,
    key: good.key,
  } as http2.SecureClientSessionOptions);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const st = s.request({ ':path': '/h2', 'x-forwarded-client-cert': 'Hash=forged' });
      st.on('response', (h) => resolve(Number(h[':status'])));
      st.on('error', reject);
      st.resume();
      st.end();
    });
    assert.is(status, 200);
    assert.match(
      String(seen['x-forwarded-client-cert']),
      /^Hash=[0-9a-f]{64};Subject="O=bulkhead-test,CN=acme-client"/,
    );
  } finally {
    s.close();
    await dp.close();
  }
});

test('a WebSocket over TLS carries the identity and X-Forwarded-Proto https; a forged copy is replaced', async () => {
  const dp = await start('Required');
  try {
    const ws = new WebSocket(`wss://127.0.0.1:${dp.tlsPort}/ws`, {
      servername: 'site.example.com',
      headers: { host: 'site.example.com', 'x-forwarded-client-cert': 'Hash=forged' },
      ca: ca.cert,
      cert: good.cert,
      key: good.key,
    } as WebSocket.ClientOptions);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    assert.is(first, 'welcome');
    assert.match(
      String(seen['x-forwarded-client-cert']),
      /^Hash=[0-9a-f]{64};Subject="O=bulkhead-test,CN=acme-client"/,
    );
    assert.is(seen['x-forwarded-proto'], 'https');
  } finally {
    await dp.close();
  }
});

test('teardown', async () => {
  wss.close();
  await closeServer(be);
  pki.close();
});

test.run();
