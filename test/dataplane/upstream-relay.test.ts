// The HTTP/1.1 upstream relay (upstream-pool.ts, upstream-conn.ts, upstream-http1.ts) against raw
// `net` backends that do exactly what a test needs on the wire: a keep-alive socket closed under a
// reused request, `Keep-Alive: timeout` hints, close-delimited and interim (1xx) answers, HEAD,
// broken framing, request bodies of known and unknown length, and a slow client with a short read
// timeout.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import { cluster, closeServer, delay, listen, request, route, snapshot, startProxy } from './fixtures.ts';

interface Seen {
  conns: number;
  heads: string[];
  bodies: string[];
}

/** A raw backend: `answer(head, body, socket, n)` for each request (n counts per connection). */
async function rawBackend(
  answer: (head: string, body: string, s: net.Socket, n: number) => void,
): Promise<net.Server & { port: number; seen: Seen }> {
  const seen: Seen = { conns: 0, heads: [], bodies: [] };
  const server = net.createServer((s) => {
    seen.conns++;
    let buf = '';
    let n = 0;
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end);
        const cl = /\r\ncontent-length: (\d+)/i.exec(head);
        let body = '';
        let used = end + 4;
        if (cl !== null) {
          const len = Number(cl[1]);
          if (buf.length < used + len) return;
          body = buf.slice(used, used + len);
          used += len;
        } else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const last = buf.indexOf('0\r\n\r\n', used);
          if (last === -1) return;
          body = dechunk(buf.slice(used, last + 5));
          used = last + 5;
        }
        buf = buf.slice(used);
        seen.heads.push(head);
        seen.bodies.push(body);
        answer(head, body, s, ++n);
      }
    });
  });
  return Object.assign(await listen(server), { seen });
}

function dechunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    const size = parseInt(s.slice(i, eol), 16);
    if (size === 0) return out;
    out += s.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}

const OK = (body: string, extra = ''): string =>
  `HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

async function proxyTo(port: number, readMs = 3000) {
  return startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80', { timeouts: { readMs } })],
      clusters: [cluster('team/web:80', [port])],
    }),
  );
}

test('a reused keep-alive connection closed under a GET: sent again on a fresh one, the client sees 200', async () => {
  // the second request on each connection is cut without an answer (the server closed that socket)
  const be = await rawBackend((_h, _b, s, n) => (n === 1 ? s.write(OK('fresh')) : s.destroy()));
  const dp = await proxyTo(be.port);
  try {
    assert.is((await request(dp.port, { path: '/a' })).body, 'fresh');
    const r = await request(dp.port, { path: '/b' });
    assert.is(r.status, 200);
    assert.is(r.body, 'fresh');
    assert.is(be.seen.conns, 2, 'the resend went on a new connection');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a POST is never sent twice: the same cut answers 502', async () => {
  const be = await rawBackend((_h, _b, s, n) => (n === 1 ? s.write(OK('one')) : s.destroy()));
  const dp = await proxyTo(be.port);
  try {
    assert.is((await request(dp.port, { method: 'POST', path: '/a', body: 'x' })).status, 200);
    const r = await request(dp.port, { method: 'POST', path: '/b', body: 'y' });
    assert.is(r.status, 502);
    assert.is(be.seen.bodies.filter((b) => b === 'y').length, 1, 'the backend saw the POST once');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test("the server's Keep-Alive timeout is honoured: a 1 s hint is never reused, a 30 s hint is", async () => {
  for (const [hint, conns] of [
    [1, 3],
    [30, 1],
  ] as const) {
    const be = await rawBackend((_h, _b, s) => s.write(OK('k', `keep-alive: timeout=${hint}\r\n`)));
    const dp = await proxyTo(be.port);
    try {
      for (let i = 0; i < 3; i++) assert.is((await request(dp.port, { path: '/' })).body, 'k');
      assert.is(be.seen.conns, conns, `timeout=${hint}`);
    } finally {
      await dp.close();
      await closeServer(be);
    }
  }
});

test('a close-delimited answer (no length, HTTP/1.0 style) is relayed whole', async () => {
  const body = 'z'.repeat(100_000);
  const be = await rawBackend((_h, _b, s) => {
    s.write('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\n');
    s.write(body.slice(0, 50_000));
    setTimeout(() => s.end(body.slice(50_000)), 20);
  });
  const dp = await proxyTo(be.port);
  try {
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 200);
    assert.is(r.body.length, body.length);
    assert.is(r.headers['transfer-encoding'], 'chunked');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('interim answers (100, 103) are not relayed; the final answer is', async () => {
  const be = await rawBackend((_h, _b, s) =>
    s.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n' + OK('final')),
  );
  const dp = await proxyTo(be.port);
  try {
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 200);
    assert.is(r.body, 'final');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('HEAD: the length is relayed, no body is waited for, the connection is reused', async () => {
  const be = await rawBackend((h, _b, s) =>
    s.write(h.startsWith('HEAD') ? 'HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n' : OK('get')),
  );
  const dp = await proxyTo(be.port);
  try {
    const r = await request(dp.port, { method: 'HEAD', path: '/' });
    assert.is(r.status, 200);
    assert.is(r.headers['content-length'], '1234');
    assert.is((await request(dp.port, { path: '/' })).body, 'get');
    assert.is(be.seen.conns, 1);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a malformed head from the backend is a 502; a broken chunk after the head cuts the client, never a hang', async () => {
  const be = await rawBackend((h, _b, s) =>
    s.write(
      h.startsWith('GET /head')
        ? 'HTTP/1.1 200 OK\r\nbad header line\r\ncontent-length: 2\r\n\r\nok'
        : 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n',
    ),
  );
  const dp = await proxyTo(be.port);
  try {
    assert.is((await request(dp.port, { path: '/head' })).status, 502);
    const cut = await request(dp.port, { path: '/chunk' }).then(
      (r) => `answered ${r.status} ${r.body}`,
      (e: Error) => e.message,
    );
    assert.match(cut, /socket hang up|aborted|ECONNRESET/);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('request bodies: a Content-Length passes through unchanged, an unknown length goes chunked', async () => {
  const be = await rawBackend((_h, b, s) => s.write(OK(`got ${b.length}`)));
  const dp = await proxyTo(be.port);
  try {
    const fixed = await request(dp.port, { method: 'PUT', path: '/', body: 'a'.repeat(70_000) });
    assert.is(fixed.body, 'got 70000');
    assert.match(be.seen.heads[0]!, /\r\ncontent-length: 70000/);
    assert.not.match(be.seen.heads[0]!, /transfer-encoding/);
    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: dp.port, method: 'POST', path: '/', agent: false },
        (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve(t));
        },
      );
      req.on('error', reject);
      req.write('b'.repeat(1000));
      setTimeout(() => req.end('c'.repeat(500)), 30);
    });
    assert.is(chunked, 'got 1500');
    assert.match(be.seen.heads[1]!, /\r\ntransfer-encoding: chunked/);
    assert.is(be.seen.bodies[1], 'b'.repeat(1000) + 'c'.repeat(500));
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('request trailers of a chunked body are forwarded (hop-by-hop names dropped)', async () => {
  let raw = '';
  const server = net.createServer((s) => {
    s.on('data', (d) => {
      raw += d.toString('latin1');
      if (/\r\n0\r\n(.*\r\n)*\r\n$/.test(raw)) s.end(OK('done'));
    });
  });
  const be = await listen(server);
  const dp = await proxyTo(be.port);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(dp.port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('end', () => resolve(got));
      s.on('error', reject);
      s.write(
        'POST /t HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n' +
          '5\r\nhello\r\n0\r\nx-checksum: abc\r\nkeep-alive: 5\r\n\r\n',
      );
    });
    assert.match(answer, /^HTTP\/1.1 200/);
    assert.match(raw, /\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n$/);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a slow client does not trip the read timeout: the upstream waits while the client is the slow side', async () => {
  const size = 8 * 1024 * 1024;
  const body = Buffer.alloc(size, 'q');
  const be = await rawBackend((_h, _b, s) => {
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`);
    s.write(body);
  });
  const dp = await proxyTo(be.port, 300);
  try {
    const got = await new Promise<number>((resolve, reject) => {
      const s = net.connect(dp.port, '127.0.0.1');
      let n = 0;
      s.on('error', reject);
      s.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      // read in bursts with pauses longer than the read timeout
      s.on('data', (d) => {
        n += d.length;
        s.pause();
        setTimeout(() => s.resume(), 5);
      });
      s.on('close', () => resolve(n));
      setTimeout(() => s.pause(), 50);
      setTimeout(() => s.resume(), 800);
    });
    assert.ok(got > size, `the whole body arrived (${got} bytes with the head)`);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a silent backend answers 504 after the read timeout; the pool keeps working', async () => {
  let silent = true;
  const be = await rawBackend((_h, _b, s) => {
    if (!silent) s.write(OK('back'));
  });
  const dp = await proxyTo(be.port, 200);
  try {
    const t0 = Date.now();
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 504);
    assert.ok(Date.now() - t0 < 2000);
    silent = false;
    await delay(10);
    assert.is((await request(dp.port, { path: '/' })).body, 'back');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

// Content-Length bodies are counted by the relay itself after llhttp has checked the head
// (upstream-conn.ts `ownBody`): split across reads, empty, followed by stray bytes, or cut short.

test('a Content-Length body split over many reads arrives whole; the connection is reused', async () => {
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  const be = await rawBackend((_h, _b, s) => {
    // the head and a few bytes, then the rest in uneven pieces with pauses between them
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
    s.write(body.subarray(0, 3));
    let at = 3;
    const next = (): void => {
      if (at >= body.length) return;
      const n = Math.min(body.length - at, 1 + ((at * 31) % 70_000));
      s.write(body.subarray(at, at + n));
      at += n;
      setTimeout(next, 2);
    };
    setTimeout(next, 5);
  });
  const dp = await proxyTo(be.port);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await new Promise<Buffer>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: dp.port, path: `/big${i}`, agent: false }, (res) => {
            assert.is(res.statusCode, 200);
            assert.is(res.headers['content-length'], String(body.length));
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve(Buffer.concat(parts)));
            res.on('error', reject);
          })
          .on('error', reject);
      });
      assert.ok(r.equals(body), `response ${i}: the body arrives byte for byte`);
    }
    assert.is(be.seen.conns, 1, 'one upstream connection served all three');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('Content-Length 0 completes at once; 204 and 304 with a length wait for no body', async () => {
  const be = await rawBackend((h, _b, s) => {
    if (h.includes(' /empty ')) s.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    else if (h.includes(' /nocontent ')) s.write('HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n');
    else s.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\netag: "x"\r\n\r\n');
  });
  const dp = await proxyTo(be.port, 1000);
  try {
    const a = await request(dp.port, { path: '/empty' });
    assert.is(a.status, 200);
    assert.is(a.body, '');
    const b = await request(dp.port, { path: '/nocontent' });
    assert.is(b.status, 204);
    const c = await request(dp.port, { path: '/notmodified' });
    assert.is(c.status, 304);
    const d = await request(dp.port, { path: '/empty' });
    assert.is(d.status, 200, 'the connection is still usable after the bodiless answers');
    assert.is(be.seen.conns, 1, 'and it was reused throughout');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('stray bytes after a complete response: the response is relayed, that connection is dropped', async () => {
  const be = await rawBackend((h, _b, s) => {
    if (h.includes(' /stray ')) s.write(OK('exact') + 'GARBAGE');
    else s.write(OK('fine'));
  });
  const dp = await proxyTo(be.port);
  try {
    const a = await request(dp.port, { path: '/stray' });
    assert.is(a.status, 200);
    assert.is(a.body, 'exact');
    const b = await request(dp.port, { path: '/next' });
    assert.is(b.status, 200);
    assert.is(b.body, 'fine');
    assert.is(be.seen.conns, 2, 'the connection that sent stray bytes was not reused');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a Content-Length body cut short: the client sees a cut response, the pool goes on', async () => {
  const be = await rawBackend((h, _b, s) => {
    if (h.includes(' /short ')) {
      s.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n' + 'a'.repeat(400));
      setTimeout(() => s.destroy(), 20);
    } else s.write(OK('after'));
  });
  const dp = await proxyTo(be.port);
  try {
    const outcome = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port: dp.port, path: '/short', agent: false }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => (got += c.length));
          res.on('end', () => resolve(`ended after ${got}`));
          res.on('error', () => resolve(`cut after ${got}`));
          res.on('aborted', () => resolve(`cut after ${got}`));
        })
        .on('error', (e) => resolve(`error ${e.message}`));
    });
    assert.match(
      outcome,
      /^cut after 400$|^error /,
      `the client must not see a complete response (${outcome})`,
    );
    const b = await request(dp.port, { path: '/after' });
    assert.is(b.status, 200);
    assert.is(b.body, 'after');
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('concurrent Content-Length bodies arriving in the same loop turn stay apart', async () => {
  // each answer: head and a first part at once; the rest of all eight bodies is written together
  // once all eight requests are in, so the proxy reads those parts in one turn, while the first
  // writes of that turn are still held in its outbox
  const N = 8;
  const bodyOf = (i: number): string => String.fromCharCode(97 + i).repeat(6000);
  const rest: (() => void)[] = [];
  const be = await rawBackend((h, _b, s) => {
    const i = Number(/ \/c(\d+) /.exec(h)![1]);
    const body = bodyOf(i);
    s.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n` + body.slice(0, 1000));
    rest.push(() => s.write(body.slice(1000)));
    if (rest.length === N) setTimeout(() => rest.forEach((f) => f()), 20);
  });
  const dp = await proxyTo(be.port);
  try {
    // keep-alive clients: a response's end does not end (and so flush) its connection
    const agent = new http.Agent({ keepAlive: true, maxSockets: N });
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) => request(dp.port, { path: `/c${i}`, agent })),
    );
    agent.destroy();
    rs.forEach((r, i) => {
      assert.is(r.status, 200);
      assert.ok(r.body === bodyOf(i), `answer ${i} has its own bytes`);
    });
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test('a head whose CRLF CRLF is split over reads: the body after it is still relayed exactly', async () => {
  // response n splits its head n bytes before its end (1..3: inside the CRLF CRLF; 9: before it),
  // then sends the rest of the head with the body
  const be = await rawBackend((_h, _b, s, n) => {
    const body = `body-${n}-` + 'q'.repeat(50);
    const head = `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n`;
    const cut = head.length - [1, 2, 3, 9][(n - 1) % 4]!;
    s.write(head.slice(0, cut));
    setTimeout(() => s.write(head.slice(cut) + body), 15);
  });
  const dp = await proxyTo(be.port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let n = 1; n <= 8; n++) {
      const r = await request(dp.port, { path: `/split${n}`, agent });
      assert.is(r.status, 200);
      assert.is(r.body, `body-${n}-` + 'q'.repeat(50), `response ${n}`);
    }
    assert.is(be.seen.conns, 1, 'all on one upstream connection');
  } finally {
    agent.destroy();
    await dp.close();
    await closeServer(be);
  }
});

test.run();
