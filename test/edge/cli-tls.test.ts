// `bulkhead dataplane --secrets <dir> --tls-port N` as a real process with two worker processes:
// both share the HTTPS port, read the certificate from the Secret files, and serve h2 and
// HTTP/1.1 over TLS; SIGTERM drains and exits.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import {
  closeServer,
  cluster,
  deadPort,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  waitDataplaneReady,
} from '../dataplane/fixtures.ts';
import { Pki } from './pki.ts';

test('two workers serve HTTPS from Secret files given on the command line', async () => {
  const pki = new Pki();
  const ca = pki.ca('cli CA');
  pki.tlsSecret('edge', 'site', pki.leaf(ca, 'site', { dns: ['site.example.com'], usage: 'serverAuth' }));
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end(`pid-agnostic ${req.headers['x-forwarded-proto']}`));
  });
  const file = `${pki.work}/snapshot.json`;
  const [port, adminPort, tlsPort] = [await deadPort(), await deadPort(), await deadPort()];
  writeFileSync(
    file,
    JSON.stringify(
      snapshot({
        routes: [route('team/web/main', 'team/web:80')],
        clusters: [cluster('team/web:80', [be.port])],
        over: {
          websocket: { drainPeriodMs: 500 },
          listener: {
            tls: {
              port: 0,
              certificates: [{ secretRef: { namespace: 'edge', name: 'site' } }],
              minVersion: 'TLS1.2',
              redirectHTTP: false,
              clientAuth: null,
            },
          },
        },
      }),
    ),
  );
  const child = spawn(
    process.execPath,
    [
      'bin/bulkhead.mjs',
      'dataplane',
      '--snapshot',
      file,
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--tls-port',
      String(tlsPort),
      '--secrets',
      pki.secretsDir,
      '--host',
      '127.0.0.1',
      '--workers',
      '2',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = once(child, 'exit');
  try {
    await waitDataplaneReady(adminPort, null, 20_000, () => stderr);
    assert.match(stderr, new RegExp(`HTTPS on ${tlsPort}`));
    for (let i = 0; i < 6; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: tlsPort,
            servername: 'site.example.com',
            ca: ca.cert,
            agent: false,
            headers: { host: 'site.example.com' },
          },
          (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.is(body, 'pid-agnostic https');
    }
    const s = http2.connect(`https://site.example.com:${tlsPort}`, {
      ca: ca.cert,
      host: '127.0.0.1',
      servername: 'site.example.com',
    } as http2.SecureClientSessionOptions);
    const status = await new Promise<number>((resolve, reject) => {
      const st = s.request({ ':path': '/' });
      st.on('response', (h) => resolve(Number(h[':status'])));
      st.on('error', reject);
      st.resume();
      st.end();
    });
    s.close();
    assert.is(status, 200);
    child.kill('SIGTERM');
    const [code] = (await Promise.race([exited, delay(15_000).then(() => ['timeout'])])) as [number | string];
    assert.is(code, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await closeServer(be);
    pki.close();
  }
});

test.run();
