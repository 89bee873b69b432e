// The data port accepts on several handles of one listening socket (accept-fanout.ts): counted
// with `ss`, which lists every descriptor a process holds on a socket. The duplicating child must
// not keep a copy (a lingering copy would take connections nobody serves), and closing the
// listener must close every handle.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { DEFAULT_ACCEPT_HANDLES, duplicateListener } from '../../src/dataplane/accept-fanout.ts';
import {
  closeServer,
  httpBackend,
  listen,
  request,
  route,
  cluster,
  snapshot,
  startProxy,
} from './fixtures.ts';

/** descriptors per process that hold the listening socket on `port` */
function listeningFds(port: number): Map<number, number> {
  const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`]).toString();
  const per = new Map<number, number>();
  for (const m of out.matchAll(/pid=(\d+),fd=\d+/g)) per.set(Number(m[1]), (per.get(Number(m[1])) ?? 0) + 1);
  return per;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

test('duplicateListener: N more servers on new descriptors of one socket, the child keeps none', async () => {
  const server = await listen(net.createServer((s) => s.end('x')));
  const extra = await duplicateListener(server, 3, (msg) => assert.unreachable(msg));
  assert.is(extra.length, 3);
  for (const s of extra) {
    assert.is((s.address() as net.AddressInfo).port, server.port);
    s.on('connection', (c) => c.end('dup'));
  }
  // the child has left with its copy (poll: its exit is asynchronous)
  let fds = listeningFds(server.port);
  for (let i = 0; i < 40 && fds.size > 1; i++) {
    await new Promise((r) => setTimeout(r, 50));
    fds = listeningFds(server.port);
  }
  assert.equal([...fds.entries()], [[process.pid, 4]], 'only this process holds the socket');
  await closeServer(server);
  // the duplicates alone still accept: they are the same socket
  const reply = await new Promise<string>((resolve) => {
    const c = net.connect(server.port, '127.0.0.1');
    let d = '';
    c.on('data', (b) => (d += b));
    c.on('close', () => resolve(d));
  });
  assert.is(reply, 'dup');
  for (const s of extra) await closeServer(s);
  assert.ok(await refused(server.port));
});

test('a data-plane listener accepts on DEFAULT_ACCEPT_HANDLES handles and closes all of them', async () => {
  const be = await httpBackend((_q, res) => res.end('ok'));
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    assert.equal([...listeningFds(dp.port).entries()], [[process.pid, DEFAULT_ACCEPT_HANDLES]]);
    // a burst of new connections, all served
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => request(dp.port, { path: '/', headers: { host: 'a.example' } })),
    );
    assert.equal(new Set(answers.map((a) => a.status)), new Set([200]));
  } finally {
    await dp.close();
    await closeServer(be);
  }
  assert.ok(await refused(dp.port), 'every accepting handle closed');
});

test('BULKHEAD_ACCEPT_HANDLES=1 keeps the one handle', async () => {
  const be = await httpBackend((_q, res) => res.end('ok'));
  process.env.BULKHEAD_ACCEPT_HANDLES = '1';
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80')],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  delete process.env.BULKHEAD_ACCEPT_HANDLES;
  try {
    assert.equal([...listeningFds(dp.port).entries()], [[process.pid, 1]]);
    assert.is((await request(dp.port, { path: '/', headers: { host: 'a.example' } })).status, 200);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
