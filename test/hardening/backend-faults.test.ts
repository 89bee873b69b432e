// Backend faults against a data plane in its own process: a backend that refuses, resets, never
// answers, half-closes, or dies in the middle of a body, a gRPC stream or a WebSocket. Each gets the
// right answer (502/504 before the response started; a cut response, gRPC UNAVAILABLE in trailers
// or a closed WebSocket after), and afterwards the data plane holds no more file descriptors than
// before: no socket leaked on either side.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  cluster,
  closeServer,
  deadPort,
  delay,
  listen,
  request,
  route,
  snapshot,
} from '../dataplane/fixtures.ts';
import { spawnDataplane, type DataplaneChild } from './dataplane-child.ts';

const servers: net.Server[] = [];
let dp: DataplaneChild;
let fds0 = 0;

function prefix(p: string) {
  return { match: { path: { type: 'PathPrefix' as const, value: p } }, timeouts: { readMs: 500 } };
}

/** A raw TCP backend: `onRequest` gets the socket once a request head has arrived. */
async function rawBackend(onRequest: (s: net.Socket) => void): Promise<number> {
  const srv = await listen(
    net.createServer((s) => {
      s.on('error', () => {});
      let head = '';
      s.on('data', (c: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += c.toString('latin1');
        if (head.includes('\r\n\r\n')) onRequest(s);
      });
    }),
  );
  servers.push(srv);
  return srv.port;
}

test.before(async () => {
  const refused = await deadPort();
  const reset = await rawBackend((s) => s.resetAndDestroy());
  const slow = await rawBackend(() => {});
  const halfClosed = await rawBackend((s) => s.end());
  const midBody = await rawBackend((s) => {
    s.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\ncontent-type: text/plain\r\n\r\n');
    s.write(Buffer.alloc(30_000, 'b'));
    setTimeout(() => s.resetAndDestroy(), 50);
  });
  // gRPC: two messages of a server stream, then the backend's connection dies
  const grpcBe = await listen(http2.createServer());
  const grpcSockets = new Set<net.Socket>();
  grpcBe.on('connection', (sock: net.Socket) => grpcSockets.add(sock));
  grpcBe.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const msg = Buffer.from([0, 0, 0, 0, 5, 104, 101, 108, 108, 111]);
    stream.write(msg);
    stream.write(msg);
    // the process dies: its TCP connections are reset, no GOAWAY
    setTimeout(() => {
      for (const sock of grpcSockets) sock.resetAndDestroy();
    }, 50);
  });
  servers.push(grpcBe);
  // WebSocket: accepts, echoes one message, then its TCP connection is cut
  const wsHttp = await listen(http.createServer());
  const wss = new WebSocketServer({ server: wsHttp });
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    ws.once('message', (m) => {
      ws.send(m);
      setTimeout(() => req.socket.resetAndDestroy(), 50);
    });
  });
  servers.push(wsHttp);

  const routes = [
    route('team/refused/r', 'team/refused:80', prefix('/refused')),
    route('team/reset/r', 'team/reset:80', prefix('/reset')),
    route('team/slow/r', 'team/slow:80', prefix('/slow')),
    route('team/half/r', 'team/half:80', prefix('/half')),
    route('team/midbody/r', 'team/midbody:80', prefix('/midbody')),
    route('team/grpc/r', 'team/grpc:80', { match: { path: { type: 'PathPrefix', value: '/test.Echo' } } }),
    route('team/ws/r', 'team/ws:80', { match: { path: { type: 'PathPrefix', value: '/ws' } } }),
  ];
  const clusters = [
    cluster('team/refused:80', [refused]),
    cluster('team/reset:80', [reset]),
    cluster('team/slow:80', [slow]),
    cluster('team/half:80', [halfClosed]),
    cluster('team/midbody:80', [midBody]),
    cluster('team/grpc:80', [grpcBe.port], { protocol: 'H2C' }),
    cluster('team/ws:80', [wsHttp.port]),
  ];
  dp = await spawnDataplane(snapshot({ routes, clusters }));
  fds0 = dp.fds();
});

test.after(async () => {
  await dp.stop();
  for (const s of servers) await closeServer(s);
});

for (const [path, status, reason] of [
  ['/refused', 502, 'upstream-connect-failure'],
  ['/reset', 502, 'upstream-reset'],
  ['/slow', 504, 'upstream-timeout'],
  ['/half', 502, 'upstream-reset'],
] as const) {
  test(`backend ${path.slice(1)}: ${status} ${reason}`, async () => {
    const r = await request(dp.port, { path });
    assert.is(r.status, status);
    assert.is(r.headers['x-bulkhead-reason'], reason);
  });
}

test('backend killed mid-body: the client sees the response cut, not a hang', async () => {
  const outcome = await new Promise<string>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: dp.port, path: '/midbody', agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(`complete ${n}`));
      res.on('error', () => resolve(`cut after ${n} bytes (status ${res.statusCode})`));
      res.on('aborted', () => resolve(`cut after ${n} bytes (status ${res.statusCode})`));
    });
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.setTimeout(5000, () => resolve('hang'));
    req.end();
  });
  assert.match(outcome, /^cut after \d+ bytes \(status 200\)$/);
});

test('backend killed mid-gRPC-stream: the client gets its messages, then grpc-status UNAVAILABLE', async () => {
  const s = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    const r = await new Promise<{ status: string; bytes: number; grpcStatus: string | null }>(
      (resolve, reject) => {
        const req = s.request({
          ':method': 'POST',
          ':path': '/test.Echo/ServerStream',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        let status = '';
        let bytes = 0;
        let grpcStatus: string | null = null;
        req.on('response', (h) => {
          status = String(h[':status']);
          if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
        });
        req.on('trailers', (t) => (grpcStatus = String(t['grpc-status'])));
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('close', () => resolve({ status, bytes, grpcStatus }));
        req.on('error', () => {});
        setTimeout(() => reject(new Error('gRPC stream hung')), 5000).unref();
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      },
    );
    assert.is(r.status, '200');
    assert.is(r.bytes, 20, 'both messages arrived before the failure');
    assert.is(r.grpcStatus, '14');
  } finally {
    s.close();
  }
});

test('backend killed mid-WebSocket: the client connection closes', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${dp.port}/ws`);
  ws.on('error', () => {});
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const echoed = new Promise((r) => ws.once('message', r));
  ws.send('ping');
  assert.is(String(await echoed), 'ping');
  const code = await new Promise<number>((resolve, reject) => {
    ws.once('close', (c) => resolve(c));
    setTimeout(() => reject(new Error('WebSocket not closed')), 5000).unref();
  });
  assert.ok(code === 1006 || code === 1001 || code === 1011, `close code ${code}`);
});

test('no file descriptor leaked in the data plane', async () => {
  let fds = dp.fds();
  for (let i = 0; i < 50 && fds > fds0; i++) {
    await delay(100);
    fds = dp.fds();
  }
  assert.ok(fds <= fds0, `data plane fds ${fds0} before, ${fds} after`);
  assert.is(await dp.metric('bulkhead_active_connections'), 0);
});

test.run();
