// HTTP/1.1 engine behaviour with a real node:http backend: pipelining order, keep-alive, request
// limits, chunked bodies both ways, trailers, 100-continue, HEAD and HTTP/1.0 framing.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import { SOCKET_MODES, useSockets, countingBackend, engineProxy, raw, statuses } from './harness.ts';

for (const mode of SOCKET_MODES) {
  const test = suite(`${mode} sockets`);
  test.before(() => useSockets(mode));

  test('pipelined requests are answered in request order, a slow first one holding the rest', async () => {
    const be = await countingBackend((req, res) => {
      setTimeout(() => res.end('body ' + req.url + ';'), req.url === '/slow' ? 150 : 0);
    });
    const px = await engineProxy(be.port);
    try {
      const r = await raw(
        px.port,
        'GET /slow HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /c HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
        3000,
      );
      assert.equal(statuses(r.data), [200, 200, 200, 200]);
      const bodies = [...r.data.matchAll(/body (\/\w+);/g)].map((m) => m[1]);
      assert.equal(bodies, ['/slow', '/b', '/c', '/d']);
      assert.ok(r.closed, 'Connection: close honoured');
      assert.is(be.count, 4);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('keep-alive: one connection serves many requests; maxRequestsPerConnection closes it', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port, { maxRequestsPerConnection: 3 });
    try {
      const sock = net.connect(px.port, '127.0.0.1');
      await new Promise((r) => sock.once('connect', r));
      let data = '';
      sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
      const closed = new Promise((r) => sock.once('close', r));
      for (let i = 1; i <= 3; i++) {
        sock.write(`GET /k${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
        const want = i;
        while (statuses(data).length < want) await new Promise((r) => setTimeout(r, 5));
      }
      await closed;
      assert.equal(statuses(data), [200, 200, 200]);
      const heads = data.split('HTTP/1.1 ').slice(1);
      assert.not.match(heads[0]!, /connection: close/);
      assert.not.match(heads[1]!, /connection: close/);
      assert.match(heads[2]!, /connection: close/, 'the last allowed request says close');
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('chunked request body in, chunked response with trailers out', async () => {
    let got = '';
    const be = await countingBackend((req, res) => {
      req.setEncoding('latin1');
      req.on('data', (c: string) => (got += c));
      req.on('end', () => {
        res.writeHead(200, { trailer: 'x-checksum' });
        res.write('part1-');
        setTimeout(() => {
          res.addTrailers({ 'x-checksum': 'abc123' });
          res.end('part2');
        }, 20);
      });
    });
    const px = await engineProxy(be.port);
    try {
      const res = await new Promise<{ body: string; te: string | undefined; trailers: NodeJS.Dict<string> }>(
        (resolve, reject) => {
          const r = http.request(
            { host: '127.0.0.1', port: px.port, method: 'POST', path: '/up', headers: { host: 'a' } },
            (res) => {
              let body = '';
              res.setEncoding('latin1');
              res.on('data', (c: string) => (body += c));
              res.on('end', () =>
                resolve({ body, te: res.headers['transfer-encoding'], trailers: res.trailers }),
              );
            },
          );
          r.on('error', reject);
          r.write('hello ');
          setTimeout(() => r.end('world'), 20);
        },
      );
      assert.is(got, 'hello world');
      assert.is(res.body, 'part1-part2');
      assert.is(res.te, 'chunked');
      assert.is(res.trailers['x-checksum'], 'abc123');
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('Content-Length responses are relayed as-is; HEAD and 204 have no body', async () => {
    const be = await countingBackend((req, res) => {
      if (req.url === '/204') {
        res.writeHead(204);
        return res.end();
      }
      res.setHeader('content-length', '5');
      res.end(req.method === 'HEAD' ? undefined : 'fixed');
    });
    const px = await engineProxy(be.port);
    try {
      const r = await raw(
        px.port,
        'GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /a HTTP/1.1\r\nHost: a\r\n\r\nGET /204 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      );
      assert.equal(statuses(r.data), [200, 200, 204]);
      const parts = r.data.split('HTTP/1.1 ');
      assert.match(parts[1]!, /content-length: 5\r\n[\s\S]*\r\n\r\nfixed$/);
      assert.not.match(parts[1]!, /transfer-encoding/);
      assert.match(parts[2]!, /content-length: 5\r\n[\s\S]*\r\n\r\n$/, 'HEAD: length kept, no body');
      assert.not.match(parts[3]!, /transfer-encoding|\r\n\r\n./);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('HTTP/1.0 client: unknown-length body is close-delimited; keep-alive only when asked', async () => {
    const be = await countingBackend((req, res) => {
      if (req.url === '/stream') {
        res.write('abc');
        return res.end('def');
      }
      res.end('fixed');
    });
    const px = await engineProxy(be.port);
    try {
      const r = await raw(px.port, 'GET /stream HTTP/1.0\r\n\r\n');
      assert.match(r.data, /^HTTP\/1\.1 200 /);
      assert.not.match(r.data, /transfer-encoding/);
      assert.match(r.data, /connection: close\r\n\r\nabcdef$/);
      assert.ok(r.closed);
      const k = await raw(px.port, 'GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 300);
      assert.match(k.data, /connection: keep-alive\r\n/);
      assert.is(k.closed, false);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('Expect: 100-continue gets 100 when the body is wanted, then the answer', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port);
    try {
      const sock = net.connect(px.port, '127.0.0.1');
      let data = '';
      sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
      sock.write('POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
      const t0 = Date.now();
      while (!data.includes('100 Continue') && Date.now() - t0 < 2000)
        await new Promise((r) => setTimeout(r, 5));
      assert.match(data, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      sock.write('ping');
      while (statuses(data).length < 2 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 5));
      assert.equal(statuses(data), [100, 200]);
      assert.match(data, /x-body-bytes: 4/);
      sock.destroy();
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('request headers reach the handler joined like node:http', async () => {
    let seen: http.IncomingHttpHeaders = {};
    const be = await countingBackend((req, res) => {
      seen = req.headers;
      res.setHeader('x-path', req.url ?? '');
      res.end('ok');
    });
    const px = await engineProxy(be.port);
    try {
      const r = await raw(
        px.port,
        'GET http://a/abs?q=1 HTTP/1.1\r\nHost: A\r\nX-Multi: 1\r\nx-multi: 2\r\nCookie: a=1\r\nCookie: b=2\r\nConnection: close\r\n\r\n',
      );
      assert.equal(statuses(r.data), [200]);
      assert.is(seen['x-multi'], '1, 2');
      assert.is(seen.cookie, 'a=1; b=2');
      assert.is(seen['x-path'], undefined);
      assert.match(r.data, /x-path: \/abs\?q=1/, 'absolute-form reduced to origin-form');
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('a client that half-closes after its requests still gets every answer, then the close', async () => {
    const be = await countingBackend((req, res) => setTimeout(() => res.end('<' + req.url + '>'), 50));
    const px = await engineProxy(be.port);
    try {
      const sock = net.connect(px.port, '127.0.0.1');
      let data = '';
      sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
      const closed = new Promise((r) => sock.once('close', r));
      sock.end('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n');
      await closed;
      assert.equal(statuses(data), [200, 200]);
      assert.match(data, /<\/1>[\s\S]*<\/2>$/);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test('an exception in the request handler closes that connection only', async () => {
    const be = await countingBackend();
    const px = await engineProxy(be.port);
    const errors: unknown[] = [];
    px.engine.onHandlerError = (err) => errors.push(err);
    try {
      const bad = await raw(px.port, 'GET /throw HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.ok(bad.closed);
      assert.is(bad.data, '');
      assert.is(errors.length, 1);
      const ok = await raw(px.port, 'GET /fine HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      assert.equal(statuses(ok.data), [200]);
    } finally {
      await px.close();
      await be.close();
    }
  });

  test.run();
}
