// The h2c upstream attempt's own machinery (upstream-h2.ts): the request body relayed without pipe
// (backpressure both ways, checksums intact), read and send timeouts from the coarse sweep
// (h2-idle.ts: never early, not while the client is the slow side), the upstream stream reset when a
// timeout fires, the cheaper AsyncResource bind (async-bind.ts) behaving like Node's, and the
// upstream session's idle timeout (h2-session-idle.ts: no stream open for idleTimeoutMs).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { cluster, closeServer, delay, listen, route, snapshot, startProxy } from './fixtures.ts';
import { installAsyncBind } from '../../src/dataplane/async-bind.ts';
import { sweepAdd, sweepRemove, sweepSize, SWEEP_MS, type Swept } from '../../src/dataplane/h2-idle.ts';

const MiB = 1024 * 1024;

function h2cRoute(timeouts: { readMs?: number; sendMs?: number }): ReturnType<typeof snapshot> {
  return snapshot({ routes: [route('team/h2/main', 'team/h2:80', { timeouts })], clusters: [] });
}

async function proxyTo(backendPort: number, timeouts: { readMs?: number; sendMs?: number }) {
  const s = h2cRoute(timeouts);
  s.clusters = [cluster('team/h2:80', [backendPort], { protocol: 'H2C' })];
  return startProxy(s);
}

interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** One h2 request; `send` writes the body (and decides when to end it). */
function h2Call(
  port: number,
  headers: http2.OutgoingHttpHeaders,
  send: (req: http2.ClientHttp2Stream) => void,
  readDelayMs = 0,
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': '/', ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    let hdrs: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      hdrs = h;
      if (readDelayMs > 0) {
        req.pause();
        setTimeout(() => req.resume(), readDelayMs);
      }
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, headers: hdrs, body: Buffer.concat(chunks), ms: performance.now() - t0 });
    });
    req.on('error', reject);
    send(req);
  });
}

test('8 MiB upload through an h2c upstream that reads slowly: intact, and backpressure holds', async () => {
  let got = 0;
  const hash = createHash('sha256');
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', (c: Buffer) => {
      got += c.length;
      hash.update(c);
      // a slow reader: the proxy must pause the client instead of buffering the upload
      stream.pause();
      setTimeout(() => stream.resume(), 1);
    });
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end(hash.digest('hex'));
    });
  });
  const be = await listen(server);
  const dp = await proxyTo(be.port, { readMs: 5000, sendMs: 5000 });
  try {
    const payload = Buffer.alloc(8 * MiB);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
    const want = createHash('sha256').update(payload).digest('hex');
    const r = await h2Call(dp.port, {}, (req) => req.end(payload));
    assert.is(r.status, 200);
    assert.is(got, payload.length);
    assert.is(r.body.toString(), want);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('read timeout on an h2c upstream: 504 upstream-timeout after readMs (not before), upstream reset', async () => {
  let rst = -1;
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('close', () => (rst = stream.rstCode ?? -1));
    // never answers
  });
  const be = await listen(server);
  const dp = await proxyTo(be.port, { readMs: 200, sendMs: 0 });
  try {
    const r = await h2Call(dp.port, {}, (req) => req.end('x'));
    assert.is(r.status, 504);
    assert.is(r.headers['x-bulkhead-reason'], 'upstream-timeout');
    assert.ok(r.ms >= 200, `answered after ${r.ms} ms`);
    assert.ok(r.ms < 200 + 10 * SWEEP_MS, `answered after ${r.ms} ms`);
    for (let i = 0; i < 50 && rst === -1; i++) await delay(10);
    assert.is(rst, http2.constants.NGHTTP2_CANCEL);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a slow client is not a read timeout: 4 MiB response, client reads after 3× readMs', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.resume();
    stream.respond({ ':status': 200 });
    stream.end(Buffer.alloc(4 * MiB, 7));
  });
  const be = await listen(server);
  const dp = await proxyTo(be.port, { readMs: 150, sendMs: 0 });
  try {
    const r = await h2Call(dp.port, {}, (req) => req.end(), 450);
    assert.is(r.status, 200);
    assert.is(r.body.length, 4 * MiB);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('send timeout on an h2c upstream: a stalled request body → 504 send-timeout (h2 and HTTP/1.1 clients)', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    // a cancelled upload: Node ends the stream (END_STREAM) before its RST_STREAM, so a backend may
    // see a content-length mismatch (PROTOCOL_ERROR) first
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      stream.respond({ ':status': 200 });
      stream.end('got it');
    });
  });
  const be = await listen(server);
  const dp = await proxyTo(be.port, { readMs: 0, sendMs: 200 });
  try {
    let stalled: http2.ClientHttp2Stream | null = null;
    const r = await h2Call(dp.port, {}, (req) => {
      stalled = req;
      req.write('0123456789'); // and nothing more
    });
    assert.is(r.status, 504);
    assert.is(r.headers['x-bulkhead-reason'], 'send-timeout');
    assert.ok(r.ms >= 200, `answered after ${r.ms} ms`);
    (stalled as http2.ClientHttp2Stream | null)?.close();
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(dp.port, '127.0.0.1', () =>
        sock.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789'),
      );
      let out = '';
      sock.on('data', (c) => {
        out += c.toString();
        if (out.includes('\r\n\r\n')) sock.destroy();
      });
      sock.on('close', () => resolve(out));
      sock.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 504/);
    assert.match(raw, /x-bulkhead-reason: send-timeout/);
    // a body that keeps flowing, slower than nothing but faster than sendMs per chunk, is not cut
    const ok = await h2Call(dp.port, {}, (req) => {
      let n = 0;
      const tick = setInterval(() => {
        req.write('x'.repeat(100));
        if (++n === 5) {
          clearInterval(tick);
          req.end();
        }
      }, 80);
    });
    assert.is(ok.status, 200);
    assert.is(ok.body.toString(), 'got it');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('an h2c upstream session closes after idleTimeoutMs without streams, never while one is open', async () => {
  let opened = 0;
  let closed = 0;
  const server = http2.createServer();
  server.on('session', (sess) => {
    opened++;
    sess.on('close', () => closed++);
  });
  server.on('stream', (stream, headers) => {
    stream.resume();
    const answer = (): void => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end('ok');
    };
    if (headers[':path'] === '/slow') setTimeout(answer, 600);
    else stream.on('end', answer);
  });
  const be = await listen(server);
  const s = h2cRoute({});
  s.clusters = [cluster('team/h2:80', [be.port], { protocol: 'H2C' })];
  s.upstream = { ...s.upstream, idleTimeoutMs: 200 };
  const dp = await startProxy(s);
  try {
    // a quiet stream for 3× the idle timeout: the session stays
    const slow = await h2Call(dp.port, { ':path': '/slow' }, (req) => req.end());
    assert.is(slow.status, 200);
    assert.is(opened, 1);
    assert.is(closed, 0, 'the session was not closed under an open stream');
    // nothing open: closed after 200 ms, not before
    await delay(100);
    assert.is(closed, 0, 'not closed before the idle timeout');
    for (let i = 0; i < 100 && closed === 0; i++) await delay(10);
    assert.is(closed, 1, 'the idle session was closed');
    const again = await h2Call(dp.port, {}, (req) => req.end('x'));
    assert.is(again.status, 200);
    assert.is(opened, 2, 'a new session for the next call');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('h2-idle sweep: entries that leave during a tick (their own or another) do not stop the walk', async () => {
  const seen: string[] = [];
  const mk = (name: string, onTick: () => void): Swept & { name: string } => ({
    name,
    sweepPrev: null,
    sweepNext: null,
    idleTick() {
      seen.push(name);
      onTick();
    },
  });
  const base = sweepSize();
  // listed in reverse: c is visited first, then b, then a
  const a = mk('a', () => sweepRemove(a));
  const b = mk('b', () => sweepRemove(a)); // removes the next one before it is visited
  const c = mk('c', () => sweepRemove(c));
  sweepAdd(a);
  sweepAdd(b);
  sweepAdd(c);
  assert.is(sweepSize(), base + 3);
  await delay(SWEEP_MS * 3);
  sweepRemove(b);
  assert.is(sweepSize(), base);
  assert.is(seen.slice(0, 2).join(','), 'c,b');
  assert.not.ok(seen.includes('a'));
  sweepRemove(b); // removing twice is harmless
  assert.is(sweepSize(), base);
});

test('cheaper AsyncResource bind: same scope, this, arguments, length and deprecated accessor', () => {
  installAsyncBind();
  const als = new AsyncLocalStorage<string>();
  const res = als.run('inside', () => new AsyncResource('BulkheadTest'));
  function probe(this: unknown, a: number, b: number): unknown[] {
    return [this, a, b, als.getStore()];
  }
  const bound = res.bind(probe);
  assert.equal(bound.call('self', 1, 2), ['self', 1, 2, 'inside']);
  assert.is(bound.length, 2);
  // @types/node 20 lacks bind's thisArg
  const withThis = (res.bind as (fn: typeof probe, thisArg: unknown) => typeof probe)(probe, 'fixed');
  assert.equal(withThis(3, 4), ['fixed', 3, 4, 'inside']);
  const zero = res.bind(() => als.getStore());
  assert.is(zero.length, 0);
  assert.is(zero(), 'inside');
  process.noDeprecation = true;
  try {
    const accessor = bound as unknown as { asyncResource: unknown };
    assert.is(accessor.asyncResource, res);
    assert.ok(Object.keys(bound).includes('asyncResource'));
  } finally {
    process.noDeprecation = false;
  }
  assert.throws(
    () => res.bind(5 as never),
    (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_ARG_TYPE',
  );
});

test.run();
