// Large streamed bodies both ways (≥ 8 MiB), backpressure in both directions (a stalled reader
// stalls the writer instead of filling the proxy's memory), and response trailers.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
import { createHash } from 'node:crypto';
import { cluster, closeServer, delay, httpBackend, listen, route, snapshot, startProxy } from './fixtures.ts';

const MiB = 1024 * 1024;

function pattern(i: number): Buffer {
  return Buffer.alloc(64 * 1024, i % 251);
}

/** writes `total` bytes honouring backpressure; `written` shows how far it got */
async function writeAll(
  w: NodeJS.WritableStream,
  total: number,
  progress: { written: number },
): Promise<void> {
  let i = 0;
  while (progress.written < total) {
    const chunk = pattern(i++);
    progress.written += chunk.length;
    if (!w.write(chunk)) await new Promise((r) => w.once('drain', r));
  }
}

test('8 MiB upload and download through HTTP/1.1, checksums intact', async () => {
  const be = await httpBackend((req, res) => {
    if (req.url === '/up') {
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      req.on('end', () => res.end(`${n}:${h.digest('hex')}`));
    } else {
      void writeAll(res, 8 * MiB, { written: 0 }).then(() => res.end());
    }
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const expect = createHash('sha256');
    for (let i = 0; i < 128; i++) expect.update(pattern(i));
    const digest = expect.digest('hex');
    const up = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: dp.port, path: '/up', method: 'POST', agent: false },
        (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        },
      );
      req.on('error', reject);
      void writeAll(req, 8 * MiB, { written: 0 }).then(() => req.end());
    });
    assert.is(up, `${8 * MiB}:${digest}`);
    const down = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: dp.port, path: '/down', agent: false }, (res) => {
          const h = createHash('sha256');
          let n = 0;
          res.on('data', (c: Buffer) => {
            h.update(c);
            n += c.length;
          });
          res.on('end', () => resolve(`${n}:${h.digest('hex')}`));
        })
        .on('error', reject);
    });
    assert.is(down, `${8 * MiB}:${digest}`);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('backpressure: a stalled client stalls the backend (download) and a stalled backend stalls the client (upload)', async () => {
  const progress = { written: 0 };
  let backendReq: http.IncomingMessage | null = null;
  const be = await httpBackend((req, res) => {
    if (req.url === '/down') void writeAll(res, 48 * MiB, progress).then(() => res.end());
    else {
      backendReq = req;
      req.pause(); // do not read the upload until the test says so
      req.on('end', () => res.end('done'));
    }
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get({ host: '127.0.0.1', port: dp.port, path: '/down', agent: false }, resolve),
    );
    res.pause();
    await delay(400);
    assert.ok(
      progress.written < 24 * MiB,
      `backend wrote ${progress.written} bytes to a client that reads nothing`,
    );
    let got = 0;
    res.on('data', (c: Buffer) => (got += c.length));
    res.resume();
    await new Promise((r) => res.on('end', r));
    assert.is(got, 48 * MiB);

    const upProgress = { written: 0 };
    const req = http.request({ host: '127.0.0.1', port: dp.port, path: '/up', method: 'POST', agent: false });
    const answered = new Promise<string>((resolve) =>
      req.on('response', (r) => {
        let b = '';
        r.on('data', (c) => (b += c));
        r.on('end', () => resolve(b));
      }),
    );
    const writing = writeAll(req, 48 * MiB, upProgress).then(() => req.end());
    await delay(400);
    assert.ok(
      upProgress.written < 24 * MiB,
      `client wrote ${upProgress.written} bytes to a backend that reads nothing`,
    );
    (backendReq as unknown as http.IncomingMessage).resume();
    await writing;
    assert.is(await answered, 'done');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('HTTP/1.1 chunked response trailers reach an HTTP/1.1 client', async () => {
  const be = await httpBackend((_req, res) => {
    res.writeHead(200, { trailer: 'x-checksum' });
    res.write('part1-');
    res.addTrailers({ 'x-checksum': 'abc123' });
    res.end('part2');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const r = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: dp.port, path: '/', agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ body: b, trailers: res.trailers }));
        })
        .on('error', reject);
    });
    assert.is(r.body, 'part1-part2');
    assert.is(r.trailers['x-checksum'], 'abc123');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('h2c backend trailers and 8 MiB body reach an h2 client', async () => {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'x-done': 'yes' }));
    void writeAll(stream, 8 * MiB, { written: 0 }).then(() => stream.end());
  });
  const be = await listen(server);
  const dp = await startProxy(
    snapshot({
      routes: [route('team/h2/main', 'team/h2:80')],
      clusters: [cluster('team/h2:80', [be.port], { protocol: 'H2C' })],
    }),
  );
  try {
    const session = http2.connect(`http://127.0.0.1:${dp.port}`);
    const r = await new Promise<{ n: number; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
      const req = session.request({ ':path': '/', te: 'trailers' });
      let n = 0;
      let trailers: http2.IncomingHttpHeaders = {};
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('trailers', (t) => (trailers = t));
      req.on('end', () => resolve({ n, trailers }));
      req.on('error', reject);
      req.end();
    });
    session.close();
    assert.is(r.n, 8 * MiB);
    assert.is(r.trailers['x-done'], 'yes');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
