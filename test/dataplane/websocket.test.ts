// WebSocket tunnels: echo through the proxy, forwarding headers on the upgrade, maxConnections,
// idle timeout, max lifetime, upstream connect failure, drain with close code 1001 to both sides,
// and RFC 8441 WebSocket over HTTP/2.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { cluster, deadPort, delay, route, snapshot, startProxy } from './fixtures.ts';

async function wsServer(): Promise<{
  wss: WebSocketServer;
  port: number;
  upgrades: IncomingMessage[];
  closes: number[];
}> {
  const upgrades: IncomingMessage[] = [];
  const closes: number[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws, req) => {
    upgrades.push(req);
    ws.on('message', (m, isBinary) => ws.send(isBinary ? m : 'echo:' + m.toString()));
    ws.on('close', (code) => closes.push(code));
  });
  return { wss, port: (wss.address() as { port: number }).port, upgrades, closes };
}

function open(port: number, path = '/ws'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(
        Object.assign(new Error('status ' + res.statusCode), {
          status: res.statusCode,
          reason: res.headers['x-bulkhead-reason'],
        }),
      ),
    );
    ws.once('error', reject);
  });
}

function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(m.toString()));
    ws.send(text);
  });
}

function closeWss(wss: WebSocketServer): Promise<void> {
  for (const c of wss.clients) c.terminate();
  return new Promise((r) => wss.close(() => r()));
}

test('echo through a tunnel, forwarding headers on the upgrade request, path rewrite', async () => {
  const be = await wsServer();
  const r = route('team/chat/ws', 'team/chat:80', {
    match: { path: { type: 'PathPrefix', value: '/chat' } },
    rewrite: { replacePrefix: '/ws', hostname: null },
  });
  const dp = await startProxy(snapshot({ routes: [r], clusters: [cluster('team/chat:80', [be.port])] }));
  try {
    const ws = await open(dp.port, '/chat/room1');
    assert.is(await roundTrip(ws, 'hello'), 'echo:hello');
    assert.is(await roundTrip(ws, 'again'), 'echo:again');
    const up = be.upgrades[0]!;
    assert.is(up.url, '/ws/room1');
    assert.is(up.headers['x-forwarded-for'], '127.0.0.1');
    assert.ok(typeof up.headers['x-request-id'] === 'string');
    ws.close();
  } finally {
    await dp.close();
    await closeWss(be.wss);
  }
});

test('maxConnections: the tunnel over the limit gets 503', async () => {
  const be = await wsServer();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/chat/ws', 'team/chat:80')],
      clusters: [cluster('team/chat:80', [be.port])],
      over: { websocket: { maxConnections: 2 } },
    }),
  );
  try {
    const a = await open(dp.port);
    const b = await open(dp.port);
    const err = await open(dp.port).then(
      () => null,
      (e: { status: number; reason: string }) => e,
    );
    assert.is(err?.status, 503);
    assert.is(err?.reason, 'websocket-limit');
    a.close();
    await new Promise((r) => a.once('close', r));
    await delay(50);
    const c = await open(dp.port);
    assert.is(await roundTrip(c, 'x'), 'echo:x');
    b.terminate();
    c.terminate();
  } finally {
    await dp.close();
    await closeWss(be.wss);
  }
});

test('idle timeout closes a silent tunnel; traffic keeps it open', async () => {
  const be = await wsServer();
  const r = route('team/chat/ws', 'team/chat:80', { websocket: { idleTimeoutMs: 250 } });
  const dp = await startProxy(snapshot({ routes: [r], clusters: [cluster('team/chat:80', [be.port])] }));
  try {
    const busy = await open(dp.port);
    const idle = await open(dp.port);
    let idleClosed = false;
    idle.on('close', () => (idleClosed = true));
    for (let i = 0; i < 4; i++) {
      assert.is(await roundTrip(busy, 'p' + i), 'echo:p' + i);
      await delay(100);
    }
    assert.ok(idleClosed, 'the silent tunnel was closed');
    assert.is(busy.readyState, WebSocket.OPEN, 'the busy tunnel is still open');
    busy.terminate();
  } finally {
    await dp.close();
    await closeWss(be.wss);
  }
});

test('max connection lifetime closes with 1001', async () => {
  const be = await wsServer();
  const r = route('team/chat/ws', 'team/chat:80', { websocket: { maxConnectionDurationMs: 200 } });
  const dp = await startProxy(snapshot({ routes: [r], clusters: [cluster('team/chat:80', [be.port])] }));
  try {
    const ws = await open(dp.port);
    const code = await new Promise<number>((resolve) => ws.on('close', resolve));
    assert.is(code, 1001);
  } finally {
    await dp.close();
    await closeWss(be.wss);
  }
});

test('upstream connect failure → 502', async () => {
  const dp = await startProxy(
    snapshot({
      routes: [route('team/chat/ws', 'team/chat:80')],
      clusters: [cluster('team/chat:80', [await deadPort()])],
    }),
  );
  try {
    const err = await open(dp.port).then(
      () => null,
      (e: { status: number }) => e,
    );
    assert.is(err?.status, 502);
  } finally {
    await dp.close();
  }
});

test('drain: tunnels get close code 1001 on both sides after the drain period', async () => {
  const be = await wsServer();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/chat/ws', 'team/chat:80')],
      clusters: [cluster('team/chat:80', [be.port])],
      over: { websocket: { drainPeriodMs: 150 } },
    }),
  );
  const ws = await open(dp.port);
  assert.is(await roundTrip(ws, 'before'), 'echo:before');
  const closed = new Promise<number>((resolve) => ws.on('close', resolve));
  const started = Date.now();
  await dp.drain();
  assert.is(await closed, 1001);
  assert.ok(Date.now() - started >= 140, 'the tunnel stayed open for the drain period');
  for (let i = 0; i < 50 && be.closes.length === 0; i++) await delay(20);
  assert.equal(be.closes, [1001]);
  await closeWss(be.wss);
});

test('RFC 8441: WebSocket over HTTP/2 extended CONNECT', async () => {
  const be = await wsServer();
  const dp = await startProxy(
    snapshot({
      routes: [route('team/chat/ws', 'team/chat:80')],
      clusters: [cluster('team/chat:80', [be.port])],
      over: { websocket: { http2: true } },
    }),
  );
  const session = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    await new Promise<void>((resolve) =>
      session.once('remoteSettings', (s) => (s.enableConnectProtocol ? resolve() : undefined)),
    );
    const stream = session.request(
      {
        ':method': 'CONNECT',
        ':protocol': 'websocket',
        ':path': '/ws',
        ':scheme': 'http',
        ':authority': 'chat.example',
        'sec-websocket-version': '13',
      },
      { endStream: false },
    );
    const status = await new Promise<number>((resolve) =>
      stream.once('response', (h) => resolve(Number(h[':status']))),
    );
    assert.is(status, 200);
    // a masked text frame "hi" (client → server frames are masked)
    const mask = [1, 2, 3, 4];
    const payload = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]!);
    stream.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2, ...mask]), payload]));
    const frame = await new Promise<Buffer>((resolve) => stream.once('data', resolve));
    assert.is(frame[0], 0x81);
    assert.is(frame.subarray(2, 2 + frame[1]!).toString(), 'echo:hi');
    assert.is(be.upgrades[0]!.headers.host, 'chat.example');
    stream.close();
  } finally {
    session.destroy();
    await dp.close();
    await closeWss(be.wss);
  }
});

test.run();
