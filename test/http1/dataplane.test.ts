// The HTTP/1.1 engine inside the real data plane: the hostile corpus never reaches a backend while
// another client keeps getting 200; an upgrade the backend refuses is relayed and closed, never
// tunnelled; a data-plane process whose client never reads a 50 MB response keeps its RSS bounded.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cluster,
  deadPort,
  delay,
  request,
  route,
  snapshot,
  startProxy,
  waitDataplaneReady,
} from '../dataplane/fixtures.ts';
import { CORPUS } from './corpus.ts';
import { countingBackend, raw, statuses, steadyClient } from './harness.ts';

test('data plane: every hostile request is refused and closed, nothing reaches the backend', async () => {
  const be = await countingBackend();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { maxHeaderBytes: 16384 } },
    }),
  );
  const steady = steadyClient(dp.port);
  try {
    for (const c of CORPUS) {
      const r = await raw(dp.port, c.bytes, 3000);
      assert.equal(statuses(r.data), [c.status], `${c.name}: ${JSON.stringify(r.data.slice(0, 200))}`);
      assert.ok(r.closed, `${c.name}: connection closed`);
    }
    assert.is(be.count, 0, 'no hostile request reached the backend');
  } finally {
    const s = await steady.stop();
    assert.ok(s.ok >= 3, `steady client got ${s.ok} 200s`);
    assert.is(s.failed, 0);
    await dp.close();
    await be.close();
  }
});

test('an upgrade the backend answers with 403 is relayed, then closed: the next request never rides a tunnel', async () => {
  const seen: string[] = [];
  const be = await countingBackend((req, res) => {
    seen.push(`${req.headers.host} ${req.url}`);
    res.writeHead(403, { 'content-length': '6' });
    res.end('nope!\n');
  });
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/ws/main', 'team/ws:80', { hostnames: ['ws.example'] }),
        route('team/admin/main', 'team/admin:80', { hostnames: ['admin.example'] }),
      ],
      clusters: [cluster('team/ws:80', [be.port]), cluster('team/admin:80', [await deadPort()])],
    }),
  );
  try {
    const r = await raw(
      dp.port,
      [
        'GET /chat HTTP/1.1\r\nHost: ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        'GET /secret HTTP/1.1\r\nHost: admin.example\r\n\r\n',
      ],
      3000,
      200,
    );
    assert.equal(statuses(r.data), [403]);
    assert.match(r.data, /nope!\n$/);
    assert.ok(r.closed);
    assert.equal(seen, ['ws.example /chat'], 'the second request never reached the WebSocket backend');
  } finally {
    await dp.close();
    await be.close();
  }
});

test('an upgrade the backend never answers gets 504 after the route read timeout', async () => {
  const silent = net.createServer((s) => s.on('data', () => {}));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const dp = await startProxy(
    snapshot({
      routes: [route('team/ws/main', 'team/ws:80', { timeouts: { readMs: 300 } })],
      clusters: [cluster('team/ws:80', [port])],
    }),
  );
  try {
    const t0 = Date.now();
    const r = await raw(
      dp.port,
      'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      3000,
    );
    assert.equal(statuses(r.data), [504]);
    assert.ok(r.closed);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    await dp.close();
    silent.close();
  }
});

test('500 connections that never send a byte are closed after the header timeout', async () => {
  const be = await countingBackend();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
      over: { listener: { requestHeaderTimeoutMs: 300 } },
    }),
  );
  const socks: net.Socket[] = [];
  try {
    let closed = 0;
    for (let i = 0; i < 500; i++) {
      const s = net.connect(dp.port, '127.0.0.1');
      s.on('close', () => closed++);
      s.on('error', () => {});
      socks.push(s);
    }
    const t0 = Date.now();
    while (closed < 500 && Date.now() - t0 < 6000) await delay(20);
    assert.is(closed, 500, `closed ${closed} of 500`);
    const ok = await request(dp.port, { path: '/after' });
    assert.is(ok.status, 200);
  } finally {
    for (const s of socks) s.destroy();
    await dp.close();
    await be.close();
  }
});

test('a backend that resets mid request body: 502, the proxy serves on', async () => {
  const be = await countingBackend((req, res) => {
    if (req.url === '/reset') return void req.once('data', () => req.socket.destroy());
    req.resume();
    req.on('end', () => res.end('fine'));
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const chunk = 'x'.repeat(64 * 1024);
    const r = await raw(
      dp.port,
      ['POST /reset HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n', chunk, chunk, chunk, chunk],
      3000,
      100,
    );
    assert.equal(statuses(r.data), [502]);
    assert.ok(r.closed);
    const ok = await request(dp.port, { method: 'POST', path: '/ok', body: 'abc' });
    assert.is(ok.status, 200);
  } finally {
    await dp.close();
    await be.close();
  }
});

test('2000 pipelined requests answered synchronously (no route): every one answered, no stack growth', async () => {
  const dp = await startProxy(snapshot({ routes: [], clusters: [] }));
  try {
    let bytes = '';
    for (let i = 0; i < 2000; i++) bytes += `GET /n${i} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const r = await raw(
      dp.port,
      bytes + 'GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      10_000,
    );
    assert.is(statuses(r.data).length, 2001);
    assert.ok(statuses(r.data).every((s) => s === 404));
    assert.ok(r.closed);
  } finally {
    await dp.close();
  }
});

test('keep-alive and pipelining through the data plane', async () => {
  const be = await countingBackend((req, res) =>
    setTimeout(() => res.end(`<${req.url}>`), req.url === '/1' ? 100 : 0),
  );
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const r = await raw(
      dp.port,
      'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      3000,
    );
    assert.equal(statuses(r.data), [200, 200, 200]);
    assert.equal(
      [...r.data.matchAll(/<(\/\d)>/g)].map((m) => m[1]),
      ['/1', '/2', '/3'],
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        http
          .get({ port: dp.port, host: '127.0.0.1', path: '/k', agent }, (res) => {
            ports.add(res.socket.localPort!);
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
    agent.destroy();
    assert.is(ports.size, 1, 'one connection served all five');
    const posted = await request(dp.port, { method: 'POST', path: '/p', body: 'x'.repeat(100_000) });
    assert.is(posted.status, 200);
  } finally {
    await dp.close();
    await be.close();
  }
});

test('through the data plane: 100-continue, chunked request body, chunked response with trailers', async () => {
  let got = '';
  const be = await countingBackend((req, res) => {
    req.setEncoding('latin1');
    req.on('data', (c: string) => (got += c));
    req.on('end', () => {
      res.writeHead(200, { trailer: 'x-sum' });
      res.write('a-');
      res.addTrailers({ 'x-sum': '42' });
      res.end('b');
    });
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const sock = net.connect(dp.port, '127.0.0.1');
    let data = '';
    sock.on('data', (c: Buffer) => (data += c.toString('latin1')));
    sock.write(
      'POST /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nTE: trailers\r\n\r\n',
    );
    const t0 = Date.now();
    while (!data.includes('\r\n\r\n') && Date.now() - t0 < 3000) await delay(5);
    assert.is(data, 'HTTP/1.1 100 Continue\r\n\r\n');
    sock.write('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    while (!data.endsWith('\r\n0\r\nx-sum: 42\r\n\r\n') && Date.now() - t0 < 3000) await delay(5);
    sock.destroy();
    assert.is(got, 'hello world');
    assert.match(data, /HTTP\/1\.1 200 OK\r\n[\s\S]*transfer-encoding: chunked\r\n/);
    assert.match(data, /\r\n2\r\na-\r\n1\r\nb\r\n0\r\nx-sum: 42\r\n\r\n$/);
  } finally {
    await dp.close();
    await be.close();
  }
});

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

test('a client that never reads a 50 MB response: the data-plane process RSS stays bounded', async () => {
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
  const dir = mkdtempSync(join(tmpdir(), 'bh-slow-reader-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(
    file,
    JSON.stringify(
      snapshot({
        routes: [route('team/web/main', 'team/web:80')],
        clusters: [cluster('team/web:80', [be.port])],
      }),
    ),
  );
  const [port, adminPort] = [await deadPort(), await deadPort()];
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
      '--host',
      '127.0.0.1',
      '--workers',
      '1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = once(child, 'exit');
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  try {
    await waitDataplaneReady(adminPort, child, 15_000);
    await request(port, { path: '/warm' }).catch(() => null);
    const before = rssOf(child.pid!);
    sent = 0;
    const s2 = net.connect(port, '127.0.0.1');
    s2.on('error', () => {});
    await once(s2, 'connect');
    s2.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    s2.pause(); // never read
    await delay(2000);
    const grown = rssOf(child.pid!) - before;
    assert.ok(sent < 20 * 1024 * 1024, `the backend could send only what buffers hold, sent ${sent}`);
    assert.ok(grown < 30 * 1024 * 1024, `data plane RSS grew ${grown} bytes`);
    s2.destroy();
  } finally {
    sock.destroy();
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    await be.close();
  }
});

test.run();
