// Graceful drain (what SIGTERM triggers): in-flight HTTP/1.1 and h2 requests all finish, HTTP/1.1
// responses carry Connection: close, h2 sessions receive GOAWAY, the port stops accepting.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
import {
  cluster,
  closeServer,
  delay,
  httpBackend,
  request,
  route,
  snapshot,
  startProxy,
} from './fixtures.ts';

test('drain with requests in flight: zero failures, Connection: close, GOAWAY', async () => {
  const be = await httpBackend((_req, res) => setTimeout(() => res.end('done'), 300));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 25 });
  const session = http2.connect(`http://127.0.0.1:${dp.port}`);
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  try {
    await request(dp.port, { path: '/warm', agent }); // an idle keep-alive connection exists before the drain
    const h1 = Array.from({ length: 20 }, (_, i) => request(dp.port, { path: `/h1/${i}`, agent }));
    const h2 = Array.from(
      { length: 10 },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const req = session.request({ ':path': `/h2/${i}` });
          let status = 0;
          req.on('response', (h) => (status = Number(h[':status'])));
          req.resume();
          req.on('end', () => resolve(status));
          req.on('error', reject);
          req.end();
        }),
    );
    await delay(100);
    const drained = dp.drain();
    const h1res = await Promise.all(h1);
    const h2res = await Promise.all(h2);
    await drained;
    assert.equal(
      h1res.map((r) => r.status),
      Array(20).fill(200),
    );
    assert.equal(
      h1res.map((r) => r.body),
      Array(20).fill('done'),
    );
    assert.ok(
      h1res.some((r) => r.headers.connection === 'close'),
      'keep-alive responses finished during the drain say Connection: close',
    );
    assert.equal(h2res, Array(10).fill(200));
    assert.ok(goaway, 'the h2 session got GOAWAY');
    const refused = await request(dp.port, { path: '/late' }).then(
      () => 'answered',
      (e: NodeJS.ErrnoException) => e.code,
    );
    assert.is(refused, 'ECONNREFUSED');
  } finally {
    agent.destroy();
    session.destroy();
    await dp.close();
    await closeServer(be);
  }
});

test.run();
