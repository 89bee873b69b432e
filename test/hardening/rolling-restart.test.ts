// A rolling restart under load, as Kubernetes does it for a pool's Deployment: two `bulkhead
// dataplane` processes behind a client-side balancer (standing in for the Service). Each in turn is
// taken out of the endpoints, waits out its preStop sleep, gets SIGTERM, drains and exits, and its
// replacement joins once /readyz says so. A bounded load of HTTP/1.1 keep-alive and h2 requests runs
// throughout; not one request may fail.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import { Pool } from 'undici';
import { cluster, closeServer, delay, httpBackend, route, snapshot } from '../dataplane/fixtures.ts';
import { spawnDataplane, type DataplaneChild } from './dataplane-child.ts';

/** a short stand-in for the pod's preStop sleep (endpoint removal reaching every client) */
const PRESTOP_MS = 300;
const WORKERS = 6;
const MAX_REQUESTS = 20_000;

interface Endpoint {
  dp: DataplaneChild;
  h1: Pool;
  h2: http2.ClientHttp2Session | null;
  served: number;
}

function h2Get(ep: Endpoint): Promise<number> {
  if (ep.h2 === null || ep.h2.destroyed || ep.h2.closed) {
    ep.h2 = http2.connect(`http://127.0.0.1:${ep.dp.port}`);
    ep.h2.on('error', () => {});
  }
  const s = ep.h2;
  return new Promise((resolve, reject) => {
    const req = s.request({ ':path': '/r' });
    let status = 0;
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('error', reject);
    req.resume();
    req.on('end', () => resolve(status));
    req.end();
  });
}

test('rolling restart of two data planes under load: 0 failed requests', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    setTimeout(() => res.end('ok'), 2);
  });
  const snap = snapshot({
    routes: [route('team/web/main', 'team/web:80')],
    clusters: [cluster('team/web:80', [be.port])],
    over: { websocket: { drainPeriodMs: 1000 }, accessLog: { enabled: false, sampleRate: 1 } },
  });
  const start = async (): Promise<Endpoint> => {
    const dp = await spawnDataplane(snap);
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`http://127.0.0.1:${dp.adminPort}/readyz`).catch(() => null);
      if (r?.status === 200) break;
      await delay(50);
    }
    return { dp, h1: new Pool(`http://127.0.0.1:${dp.port}`, { connections: 4 }), h2: null, served: 0 };
  };
  let endpoints: Endpoint[] = [await start(), await start()];
  const all = [...endpoints];
  const failures: string[] = [];
  let sent = 0;
  let stop = false;
  let rr = 0;
  const worker = async (useH2: boolean): Promise<void> => {
    while (!stop && sent < MAX_REQUESTS) {
      const ep = endpoints[rr++ % endpoints.length]!;
      sent++;
      try {
        const status = useH2
          ? await h2Get(ep)
          : await ep.h1
              .request({ path: '/r', method: 'GET' })
              .then(async (r) => (await r.body.text(), r.statusCode));
        if (status === 200) ep.served++;
        else failures.push(`status ${status}`);
      } catch (err) {
        failures.push(`${useH2 ? 'h2' : 'http1'}: ${(err as Error).message}`);
      }
    }
  };
  const load = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i % 2 === 1)));
  try {
    await delay(1000);
    for (let i = 0; i < 2; i++) {
      const old = endpoints[0]!;
      // the pod is deleted: it leaves the endpoints, preStop sleeps, then SIGTERM and drain
      endpoints = endpoints.slice(1);
      await delay(PRESTOP_MS);
      const code = await old.dp.stop();
      assert.is(code, 0, `data plane exit code: ${old.dp.stderr.join('\n')}`);
      await old.h1.close();
      old.h2?.close();
      // its replacement joins once ready
      const fresh = await start();
      all.push(fresh);
      endpoints = [...endpoints, fresh];
      await delay(1000);
    }
  } finally {
    stop = true;
    await load;
    for (const ep of endpoints) {
      await ep.h1.close();
      ep.h2?.close();
      await ep.dp.stop();
    }
    await closeServer(be);
  }
  process.stderr.write(
    `  rolling restart: ${sent} requests, served per process ${all.map((e) => e.served).join('/')}, ${failures.length} failed\n`,
  );
  assert.equal(failures.slice(0, 5), []);
  assert.ok(
    all.every((e) => e.served > 0),
    'every process served requests',
  );
});

test.run();
