// JWT per rule against a real local JWKS server and a JWKS Secret file, keys made by jose:
// RS256, ES256 and EdDSA tokens pass with claims in headers (spoofed copies replaced or stripped);
// wrong issuer, audience, expired, not yet valid, bad signature, unknown kid (after a refetch),
// alg none and a missing token are each 401 with WWW-Authenticate: Bearer; gRPC gets status 16.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';
import type { JwtAuthIR } from '../../src/ir/snapshot.ts';
import {
  closeServer,
  cluster,
  delay,
  httpBackend,
  listen,
  request,
  route,
  snapshot,
  startProxy,
} from '../dataplane/fixtures.ts';
import { Pki } from './pki.ts';

const ISS = 'https://id.example.com';
type Pair = { alg: string; kid: string; privateKey: CryptoKey; jwk: JWK };
async function pair(alg: string, kid: string): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}
const rsa = await pair('RS256', 'rsa-1');
const ec = await pair('ES256', 'ec-1');
const ed = await pair('EdDSA', 'ed-1');
const later = await pair('ES256', 'ec-2');
const impostor = await pair('RS256', 'rsa-1'); // same kid, other key

let served: JWK[] = [rsa.jwk, ec.jwk];
let fetches = 0;
const jwksServer = await listen(
  http.createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: served }));
  }),
);

const pki = new Pki();
pki.secretFile('team', 'idp-keys', 'jwks.json', JSON.stringify({ keys: [ed.jwk] }));

let seen: IncomingHttpHeaders = {};
const be = await httpBackend((req, res) => {
  seen = req.headers;
  req.resume();
  req.on('end', () => res.end('backend'));
});

function jwtIR(over: Partial<JwtAuthIR> = {}): JwtAuthIR {
  return {
    audiences: ['shop'],
    claimToHeaders: [
      { claim: 'sub', header: 'x-user-id' },
      { claim: 'tenant', header: 'x-tenant' },
    ],
    forwardToken: true,
    issuer: ISS,
    jwks: { cacheDurationMs: 300, secretRef: null, uri: `http://127.0.0.1:${jwksServer.port}/jwks.json` },
    ...over,
  };
}

const dp = await startProxy(
  snapshot({
    routes: [
      route('team/api/uri', 'team/web:80', {
        match: { path: { type: 'PathPrefix', value: '/api' } },
        auth: { jwt: jwtIR(), external: null },
      }),
      route('team/api/secret', 'team/web:80', {
        match: { path: { type: 'PathPrefix', value: '/internal' } },
        auth: {
          jwt: jwtIR({
            forwardToken: false,
            jwks: {
              cacheDurationMs: 300_000,
              uri: null,
              secretRef: { namespace: 'team', name: 'idp-keys', key: 'jwks.json' },
            },
          }),
          external: null,
        },
      }),
      route('team/api/open', 'team/web:80'),
    ],
    clusters: [cluster('team/web:80', [be.port])],
  }),
  { secretsDir: pki.secretsDir },
);

async function token(
  p: Pair,
  claims: Record<string, unknown> = {},
  opts: { iss?: string; aud?: string; exp?: number | string; nbf?: number } = {},
) {
  let t = new SignJWT({ sub: 'user-7', ...claims })
    .setProtectedHeader({ alg: p.alg, kid: p.kid })
    .setIssuer(opts.iss ?? ISS)
    .setAudience(opts.aud ?? 'shop')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m');
  if (opts.nbf !== undefined) t = t.setNotBefore(opts.nbf);
  return t.sign(p.privateKey);
}

const get = (path: string, tok: string | null, headers: Record<string, string> = {}) =>
  request(dp.port, {
    path,
    headers: { ...(tok === null ? {} : { authorization: `Bearer ${tok}` }), ...headers },
  });

async function denied(path: string, tok: string | null, reason: string): Promise<void> {
  const r = await get(path, tok);
  assert.is(r.status, 401, `${reason}: ${r.status} ${r.body}`);
  assert.match(String(r.headers['www-authenticate']), /^Bearer realm="bulkhead"/);
  assert.is(r.headers['x-bulkhead-reason'], `jwt-${reason}`);
}

const now = () => Math.floor(Date.now() / 1000);

test('RS256 and ES256 tokens from the JWKS URI pass; claims go upstream and replace spoofed copies', async () => {
  const r = await get('/api/cart', await token(rsa, { tenant: 'acme' }), {
    'x-user-id': 'admin',
    'x-tenant': 'evil',
  });
  assert.is(r.status, 200, r.body);
  assert.is(seen['x-user-id'], 'user-7');
  assert.is(seen['x-tenant'], 'acme');
  assert.ok(String(seen.authorization).startsWith('Bearer '), 'forwardToken: true');
  const r2 = await get('/api/cart', await token(ec), { 'x-tenant': 'evil' });
  assert.is(r2.status, 200);
  assert.is(seen['x-tenant'], undefined, 'a claim the token lacks: the spoofed header is stripped');
  assert.is((await get('/open', null)).status, 200, 'routes without auth are untouched');
});

test('each bad token is 401 with a Bearer challenge', async () => {
  seen = { marker: 'untouched' };
  await denied('/api', null, 'missing');
  await denied('/api', 'not.a.jwt', 'malformed');
  await denied('/api', await token(rsa, {}, { iss: 'https://evil.example.com' }), 'issuer');
  await denied('/api', await token(rsa, {}, { aud: 'billing' }), 'audience');
  await denied('/api', await token(rsa, {}, { exp: now() - 120 }), 'expired');
  await denied('/api', await token(rsa, {}, { nbf: now() + 300 }), 'not-yet-valid');
  await denied('/api', await token(impostor), 'signature');
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', iss: ISS, aud: 'shop', exp: now() + 60 })}.`;
  await denied('/api', none, 'algorithm');
  const hs = `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64({ sub: 'x', iss: ISS, aud: 'shop', exp: now() + 60 })}.c2ln`;
  await denied('/api', hs, 'algorithm');
  assert.is(seen.marker, 'untouched', 'nothing denied reached the backend');
});

test('within 30 s of clock skew an expired token still passes', async () => {
  assert.is((await get('/api', await token(rsa, {}, { exp: now() - 5 }))).status, 200);
});

test('an unknown kid refetches the JWKS (bounded): a rotated-in key passes, a never-published one is 401', async () => {
  await delay(350); // past the cooldown (min(30 s, cacheDuration))
  const before = fetches;
  await denied('/api', await token(later), 'unknown-key');
  assert.is(fetches, before + 1, 'one refetch for the unknown kid');
  await denied('/api', await token(later), 'unknown-key');
  assert.is(fetches, before + 1, 'no second refetch inside the cooldown');
  served = [rsa.jwk, ec.jwk, later.jwk];
  await delay(350);
  assert.is((await get('/api', await token(later))).status, 200);
  // a burst of unknown kids costs at most one fetch per cooldown
  const burst = fetches;
  const ghost = await pair('ES256', 'ghost');
  for (let i = 0; i < 10; i++) await denied('/api', await token(ghost), 'unknown-key');
  assert.ok(fetches - burst <= 2, `${fetches - burst} fetches`);
});

test('EdDSA keys from a JWKS Secret; forwardToken false strips Authorization', async () => {
  const r = await get('/internal/x', await token(ed));
  assert.is(r.status, 200, r.body);
  assert.is(seen.authorization, undefined);
  assert.is(seen['x-user-id'], 'user-7');
  await denied('/internal/x', await token(rsa), 'unknown-key');
});

test('gRPC clients get UNAUTHENTICATED (16) in a trailers-only answer', async () => {
  const s = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    const h = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const st = s.request({
        ':method': 'POST',
        ':path': '/api/pkg.Svc/Call',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      st.on('response', (headers) => resolve(headers));
      st.on('error', reject);
      st.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.is(h[':status'], 200);
    assert.is(h['grpc-status'], '16');
    assert.match(String(h['www-authenticate']), /^Bearer/);
  } finally {
    s.close();
  }
});

test('auth decisions are counted by route, kind, result and reason', async () => {
  const m = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
  assert.match(
    m,
    /bulkhead_auth_decisions_total\{[^}]*route="team\/api\/uri"[^}]*kind="jwt"[^}]*result="denied"[^}]*reason="jwt-expired"[^}]*\} 1/,
  );
  assert.match(m, /bulkhead_auth_decisions_total\{[^}]*result="allowed"[^}]*\} [1-9]/);
});

test('teardown', async () => {
  await dp.close();
  await closeServer(be);
  await closeServer(jwksServer);
  pki.close();
});

test.run();
