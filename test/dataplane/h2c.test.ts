// Plaintext HTTP/2 (prior knowledge) on the shared port, and h2c upstreams: every combination of
// downstream (HTTP/1.1, h2c) and upstream (HTTP/1.1, h2c) protocol.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import { request as undiciRequest, Client } from 'undici';
import {
  cluster,
  closeServer,
  delay,
  httpBackend,
  listen,
  request,
  route,
  snapshot,
  startProxy,
} from './fixtures.ts';

export function h2Get(
  port: number,
  path: string,
  headers: http2.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': path, ...headers });
    let status = 0;
    let hdrs: http2.IncomingHttpHeaders = {};
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      hdrs = h;
    });
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      session.close();
      resolve({ status, headers: hdrs, body });
    });
    req.on('error', reject);
    req.end();
  });
}

async function h2Backend(): Promise<http2.Http2Server & { port: number; seen: http2.IncomingHttpHeaders[] }> {
  const seen: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    stream.respond({ ':status': 200, 'x-proto': 'h2', 'content-type': 'text/plain' });
    stream.end('from-h2:' + headers[':path']);
  });
  const s = await listen(server);
  return Object.assign(s, { seen });
}

test('h2c client → HTTP/1.1 backend on the shared port', async () => {
  const be = await httpBackend((req, res) => {
    res.setHeader('x-seen-proto', req.headers['x-forwarded-proto'] ?? '');
    res.end('h1-backend:' + req.url);
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const r = await h2Get(dp.port, '/hello?q=1');
    assert.is(r.status, 200);
    assert.is(r.body, 'h1-backend:/hello?q=1');
    assert.is(r.headers['x-seen-proto'], 'http');
    // an HTTP/1.1 client on the same port still works
    const r1 = await request(dp.port, { path: '/x' });
    assert.is(r1.body, 'h1-backend:/x');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('HTTP/1.1 and h2c clients → h2c backend (one multiplexed session)', async () => {
  const be = await h2Backend();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/h2/main', 'team/h2:80')],
      clusters: [cluster('team/h2:80', [be.port], { protocol: 'H2C' })],
    }),
  );
  try {
    const a = await request(dp.port, { path: '/one', headers: { host: 'svc.example' } });
    assert.is(a.status, 200);
    assert.is(a.body, 'from-h2:/one');
    assert.is(a.headers['x-proto'], 'h2');
    const b = await h2Get(dp.port, '/two');
    assert.is(b.body, 'from-h2:/two');
    const client = new Client(`http://127.0.0.1:${dp.port}`, { pipelining: 1 });
    const rs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        client.request({ path: `/p${i}`, method: 'GET' }).then((r) => r.body.text()),
      ),
    );
    assert.equal(
      rs,
      Array.from({ length: 20 }, (_, i) => `from-h2:/p${i}`),
    );
    await client.close();
    assert.is(be.seen[0]![':authority'], 'svc.example');
    assert.is(be.seen[0]!['x-forwarded-for'], '127.0.0.1');
    const undiciRes = await undiciRequest(`http://127.0.0.1:${dp.port}/three`);
    assert.is(await undiciRes.body.text(), 'from-h2:/three');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('request bodies cross protocols: h2 client → HTTP/1.1 backend, HTTP/1.1 client → h2c backend', async () => {
  const h1be = await httpBackend((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`h1 got ${n}`));
  });
  const h2 = http2.createServer();
  h2.on('stream', (stream) => {
    let n = 0;
    stream.on('data', (c: Buffer) => (n += c.length));
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(`h2 got ${n}`);
    });
  });
  const h2be = await listen(h2);
  const routes = [
    route('team/web/h1', 'team/h1:80', { match: { path: { type: 'PathPrefix', value: '/to-h1' } } }),
    route('team/web/h2', 'team/h2:80', { match: { path: { type: 'PathPrefix', value: '/to-h2' } } }),
  ];
  const dp = await startProxy(
    snapshot({
      routes,
      clusters: [cluster('team/h1:80', [h1be.port]), cluster('team/h2:80', [h2be.port], { protocol: 'H2C' })],
    }),
  );
  try {
    const body = Buffer.alloc(300_000, 1);
    const session = http2.connect(`http://127.0.0.1:${dp.port}`);
    const viaH2 = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': '/to-h1' });
      let b = '';
      req.on('data', (c: Buffer) => (b += c));
      req.on('end', () => resolve(b));
      req.on('error', reject);
      req.end(body);
    });
    session.close();
    assert.is(viaH2, 'h1 got 300000');
    const viaH1 = await request(dp.port, { path: '/to-h2', method: 'POST', body });
    assert.is(viaH1.body, 'h2 got 300000');
  } finally {
    await dp.close();
    await closeServer(h1be);
    await closeServer(h2be);
  }
});

test('h2c upstream session is replaced after GOAWAY / close', async () => {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (sess) => sessions.add(sess));
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end('ok:' + headers[':path']);
    if (headers[':path'] === '/bye') {
      const sess = stream.session!;
      stream.on('close', () => sess.close()); // GOAWAY, then close
    }
  });
  const be = await listen(server);
  const dp = await startProxy(
    snapshot({
      routes: [route('team/h2/main', 'team/h2:80')],
      clusters: [cluster('team/h2:80', [be.port], { protocol: 'H2C' })],
    }),
  );
  try {
    assert.is((await request(dp.port, { path: '/a' })).body, 'ok:/a');
    assert.is((await request(dp.port, { path: '/bye' })).body, 'ok:/bye');
    await delay(50); // let the GOAWAY arrive (a request racing it is the refused-stream retry case)
    for (let i = 0; i < 5; i++)
      assert.is((await request(dp.port, { path: '/after' + i })).body, 'ok:/after' + i);
    assert.is(sessions.size, 2, 'a second session was opened after the first went away');
  } finally {
    await dp.close();
    for (const sess of sessions) sess.destroy();
    await closeServer(be);
  }
});

test('idle h2 sessions get GOAWAY after the keep-alive timeout; a session with an open stream stays', async () => {
  const be = await httpBackend((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow'), 700);
    else res.end('ok');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { keepAliveTimeoutMs: 200 } },
    }),
  );
  try {
    const idle = http2.connect(`http://127.0.0.1:${dp.port}`);
    const busy = http2.connect(`http://127.0.0.1:${dp.port}`);
    let idleGoaway = false;
    let busyGoawayEarly = false;
    idle.on('goaway', () => (idleGoaway = true));
    await h2GetOn(idle, '/');
    const slow = h2GetOn(busy, '/slow');
    busy.on('goaway', () => (busyGoawayEarly = true));
    await delay(500);
    assert.ok(idleGoaway, 'the idle session got GOAWAY');
    assert.is(busyGoawayEarly, false, 'the session with a request in flight did not');
    assert.is(await slow, 'slow');
    idle.destroy();
    busy.destroy();
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

function h2GetOn(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    let b = '';
    req.on('data', (c: Buffer) => (b += c));
    req.on('end', () => resolve(b));
    req.on('error', reject);
    req.end();
  });
}

test('h2 client → h2c backend: repeated fields merged as node:http2 merges them, both ways; trailers relayed', async () => {
  let seen: http2.IncomingHttpHeaders = {};
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    seen = headers;
    stream.respond(
      { ':status': 200, 'x-r': ['1', '2'], 'set-cookie': ['a=1', 'b=2'] },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-t': ['u', 'v'], 'x-end': 'yes' }));
    stream.end('ok');
  });
  const be = await listen(server);
  const s = snapshot({ routes: [route('team/h2/main', 'team/h2:80')], clusters: [] });
  s.clusters = [cluster('team/h2:80', [be.port], { protocol: 'H2C' })];
  const dp = await startProxy(s);
  try {
    const got = await new Promise<{
      h: http2.IncomingHttpHeaders;
      t: http2.IncomingHttpHeaders;
      body: string;
    }>((resolve, reject) => {
      const session = http2.connect(`http://127.0.0.1:${dp.port}`);
      session.on('error', reject);
      const req = session.request({
        ':path': '/dup',
        'x-dup': ['a', 'b'],
        cookie: ['c1=1', 'c2=2'],
        te: 'trailers',
        'x-forwarded-client-cert': 'Hash=forged',
        'x-one': 'single',
      });
      let h: http2.IncomingHttpHeaders = {};
      let t: http2.IncomingHttpHeaders = {};
      let body = '';
      req.on('response', (x) => (h = x));
      req.on('trailers', (x) => (t = x));
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        session.close();
        resolve({ h, t, body });
      });
      req.on('error', reject);
      req.end();
    });
    assert.is(seen['x-dup'], 'a, b');
    assert.is(seen.cookie, 'c1=1; c2=2');
    assert.is(seen['x-one'], 'single');
    assert.is(seen.te, 'trailers');
    assert.is(seen['x-forwarded-client-cert'], undefined, "a client's certificate header never passes");
    assert.is(seen['x-forwarded-for'], '127.0.0.1');
    assert.is(seen['x-forwarded-proto'], 'http');
    assert.ok(typeof seen['x-request-id'] === 'string' && seen['x-request-id'] !== '');
    assert.is(got.body, 'ok');
    assert.is(got.h[':status'], 200);
    assert.is(got.h['x-r'], '1, 2');
    assert.equal(got.h['set-cookie'], ['a=1', 'b=2']);
    assert.is(got.t['x-t'], 'u, v');
    assert.is(got.t['x-end'], 'yes');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('h2 preface split across packets is still detected', async () => {
  const be = await httpBackend((_req, res) => res.end('ok'));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const net = await import('node:net');
    const session = http2.connect(`http://127.0.0.1:${dp.port}`, {
      createConnection: () => {
        const sock = net.connect(dp.port, '127.0.0.1');
        sock.setNoDelay(true);
        const write = sock.write.bind(sock);
        let first = true;
        // the first write (the preface) goes out in two pieces with a pause between them
        sock.write = ((chunk: Buffer, ...rest: unknown[]) => {
          if (first && Buffer.isBuffer(chunk) && chunk.length > 8) {
            first = false;
            write(chunk.subarray(0, 5));
            setTimeout(() => write(chunk.subarray(5), ...(rest as [])), 30);
            return true;
          }
          return write(chunk, ...(rest as []));
        }) as typeof sock.write;
        return sock;
      },
    });
    const body = await new Promise<string>((resolve, reject) => {
      const req = session.request({ ':path': '/' });
      let b = '';
      req.on('data', (c: Buffer) => (b += c));
      req.on('end', () => resolve(b));
      req.on('error', reject);
      req.end();
    });
    session.close();
    assert.is(body, 'ok');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
