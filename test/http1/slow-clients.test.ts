// Slow and idle clients against the engine (short timeouts in the settings): silent connections
// are closed after the header timeout, a trickled head gets 408, a body at 1 byte/s is cut, idle
// keep-alive connections close, and a client that never reads a 50 MB response holds the backend
// back instead of growing the proxy's memory.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { Http1Engine } from '../../src/dataplane/http1/engine.ts';
import {
  SOCKET_MODES,
  useSockets,
  TEST_SETTINGS,
  countingBackend,
  engineProxy,
  raw,
  statuses,
} from './harness.ts';

for (const mode of SOCKET_MODES) {
  const test = suite(`${mode} sockets`);
  test.before(() => useSockets(mode));

  test('500 connections that never send a byte are closed after the header timeout', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port, { headerTimeoutMs: 300 });
    const socks: net.Socket[] = [];
    try {
      let closed = 0;
      let received = 0;
      for (let i = 0; i < 500; i++) {
        const s = net.connect(px.port, '127.0.0.1');
        s.on('data', () => received++);
        s.on('close', () => closed++);
        s.on('error', () => {});
        socks.push(s);
      }
      const t0 = Date.now();
      while (closed < 500 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      assert.is(closed, 500, `closed ${closed} of 500`);
      assert.is(received, 0, 'nothing was sent to clients that sent nothing');
      assert.ok(Date.now() - t0 < 3000);
      assert.is(px.engine.conns.size, 0);
    } finally {
      for (const s of socks) s.destroy();
      await px.close();
      await be.close();
    }
  });

  test('a head trickled past the header timeout gets 408 and the connection closes', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port, { headerTimeoutMs: 300 });
    try {
      const parts = 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: 1\r\n'.split('');
      const t0 = Date.now();
      const r = await raw(px.port, parts, 4000, 50);
      assert.equal(statuses(r.data), [408]);
      assert.ok(r.closed);
      assert.ok(Date.now() - t0 < 2000);
      assert.is(be.count, 0);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('a request body at 1 byte/s is cut by the minimum body rate', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port, { bodyGraceMs: 400, bodyMinBytesPerSec: 100 });
    try {
      const t0 = Date.now();
      const r = await raw(
        px.port,
        ['POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n', ...'x'.repeat(99).split('')],
        5000,
        1000,
      );
      assert.ok(r.closed, 'connection cut');
      assert.ok(Date.now() - t0 < 2500, `cut after ${Date.now() - t0} ms`);
      // no response had started, so the engine answers in the proxy's place
      assert.equal(statuses(r.data), [408]);
      assert.match(r.data, /x-bulkhead-reason: request-body-timeout/);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port, { keepAliveTimeoutMs: 300 });
    try {
      const t0 = Date.now();
      const r = await raw(px.port, 'GET /ka HTTP/1.1\r\nHost: a\r\n\r\n', 3000);
      assert.equal(statuses(r.data), [200]);
      assert.ok(r.closed);
      assert.ok(Date.now() - t0 < 1500);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('a client that never reads a 50 MB response: backpressure holds the backend, memory stays bounded', async () => {
    const TOTAL = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 120);
    let sent = 0;
    const be = await countingBackend((_req, res) => {
      res.setHeader('content-length', String(TOTAL));
      const pump = (): void => {
        while (sent < TOTAL) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const px = await engineProxy(be.port);
    const before = process.memoryUsage().rss;
    const sock = net.connect(px.port, '127.0.0.1');
    try {
      await new Promise((r) => sock.once('connect', r));
      sock.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
      sock.pause(); // never read
      await new Promise((r) => setTimeout(r, 1500));
      const grown = process.memoryUsage().rss - before;
      assert.ok(sent < 16 * 1024 * 1024, `backend could send only what socket buffers hold, sent ${sent}`);
      assert.ok(grown < 40 * 1024 * 1024, `rss grew ${grown}`);
    } finally {
      sock.destroy();
      await px.close();
      await be.close();
    }
  });

  test('a slow client still gets the whole last response before the close', async () => {
    const SIZE = 8 * 1024 * 1024;
    const big = Buffer.alloc(SIZE, 97);
    // the whole body handed over at once: most of it waits in the socket when the response ends
    const engine = new Http1Engine(
      TEST_SETTINGS,
      (_req, res) => {
        res.writeHead(200, ['content-length', String(SIZE)]);
        res.end(big);
      },
      () => {},
    );
    const server = net.createServer((sk) => engine.accept(sk));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const sock = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      let bytes = 0;
      const closed = new Promise((r) => sock.once('close', r));
      sock.on('data', (c: Buffer) => (bytes += c.length));
      sock.write('GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      sock.pause();
      await new Promise((r) => setTimeout(r, 3000)); // longer than the 2 s linger
      sock.resume();
      await closed;
      assert.ok(bytes > SIZE, `got ${bytes} bytes`);
    } finally {
      engine.close();
      await new Promise((r) => server.close(r));
    }
  });

  test.run();
}
