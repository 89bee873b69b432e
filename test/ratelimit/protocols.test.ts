// Rate limits over every downstream protocol: 429 with headers over h2c, RESOURCE_EXHAUSTED
// (grpc-status 8, trailers-only) for a @grpc/grpc-js client, and WebSocket upgrades counted as
// requests over HTTP/1.1 — with a Local limit (decided at once) and a Global one (the upgrade waits
// for Redis, then opens its tunnel) — and over HTTP/2 (RFC 8441 extended CONNECT).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import type { IncomingHttpHeaders } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';
import { cluster, route, snapshot } from '../dataplane/fixtures.ts';
import type { PoolSnapshot, RateLimitIR } from '../../src/ir/snapshot.ts';
import { limit, startLimited } from './fixtures.ts';
import { secretsDir, startRedis } from './redis-server.ts';

const HOUR = 3_600_000;

function h2get(port: number, path: string): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', reject);
    const st = s.request({ ':path': path });
    st.once('response', (h) => {
      st.resume();
      st.once('end', () => {
        s.close();
        resolve(h);
      });
    });
  });
}

test('h2c: 429 with Retry-After and RateLimit headers', async () => {
  const be = http2.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => be.listen(0, '127.0.0.1', r));
  const port = (be.address() as { port: number }).port;
  const s = withLimits(
    snapshot({
      routes: [route('team/h2/main/0', 'team/h2:80', { rule: 'main', rateLimits: ['team/p/h2'] })],
      clusters: [cluster('team/h2:80', [port], { protocol: 'H2C' })],
    }),
    [limit('team/p/h2', 1, HOUR)],
  );
  const dp = await startLimited(s);
  try {
    assert.is((await h2get(dp.port, '/'))[':status'], 200);
    const h = await h2get(dp.port, '/');
    assert.is(h[':status'], 429);
    assert.ok(Number(h['retry-after']) > 0);
    assert.is(h['ratelimit-policy'], '"team/p/h2";q=1;w=3600');
    assert.match(String(h['ratelimit']), /^"team\/p\/h2";r=0;t=\d+$/);
  } finally {
    await dp.close();
    be.close();
  }
});

test('gRPC: RESOURCE_EXHAUSTED (8) in a trailers-only answer for a @grpc/grpc-js client', async () => {
  const id = (b: Buffer): Buffer => b;
  const service = {
    unary: {
      path: '/test.Echo/Unary',
      requestStream: false,
      responseStream: false,
      requestSerialize: id,
      requestDeserialize: id,
      responseSerialize: id,
      responseDeserialize: id,
    },
  } satisfies grpc.ServiceDefinition;
  const server = new grpc.Server();
  server.addService(service, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, call.request),
  });
  const gport = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const s = withLimits(
    snapshot({
      routes: [route('team/grpc/main/0', 'team/grpc:80', { rule: 'main', rateLimits: ['team/p/rpc'] })],
      clusters: [cluster('team/grpc:80', [gport], { protocol: 'H2C' })],
    }),
    [limit('team/p/rpc', 2, HOUR, { key: [{ type: 'Header', name: 'x-tenant' }] })],
  );
  const dp = await startLimited(s);
  const Client = grpc.makeGenericClientConstructor(service, 'Echo');
  const client = new Client(
    `127.0.0.1:${dp.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  const call = (tenant: string) =>
    new Promise<{ code: number; details: string; md: grpc.Metadata }>((resolve) => {
      const md = new grpc.Metadata();
      md.set('x-tenant', tenant);
      const c = client.unary(Buffer.from('hi'), md, () => undefined) as grpc.ClientUnaryCall;
      c.on('status', (st: grpc.StatusObject) =>
        resolve({ code: st.code, details: st.details, md: st.metadata }),
      );
    });
  try {
    assert.is((await call('a')).code, grpc.status.OK);
    assert.is((await call('a')).code, grpc.status.OK);
    const limited = await call('a');
    assert.is(limited.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.is(limited.details, 'rate limit exceeded');
    assert.ok(limited.md.get('retry-after').length === 1, 'Retry-After rides along');
    assert.is((await call('b')).code, grpc.status.OK, 'another tenant');
  } finally {
    client.close();
    await dp.close();
    server.forceShutdown();
  }
});

function wsWorld(limits: RateLimitIR[], wsPort: number): PoolSnapshot {
  return withLimits(
    snapshot({
      routes: [route('team/ws/main/0', 'team/ws:80', { rule: 'main', rateLimits: limits.map((l) => l.id) })],
      clusters: [cluster('team/ws:80', [wsPort])],
    }),
    limits,
  );
}

/** Open a WebSocket through the proxy: 'open' or the HTTP status of the refusal. */
function openWs(port: number): Promise<{ ws: WebSocket | null; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ ws: null, status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('error', () => resolve({ ws: null, status: -1 }));
  });
}

async function echo(ws: WebSocket, text: string): Promise<string> {
  const got = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
  ws.send(text);
  return got;
}

test('WebSocket upgrades count as requests: Local limit (decided at once) and Global (waits for Redis)', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (c) => c.on('message', (d) => c.send('echo:' + String(d))));
  await new Promise((r) => wss.once('listening', r));
  const wsPort = (wss.address() as { port: number }).port;
  const redis = await startRedis();
  const dir = secretsDir({ 'team/ratelimit-redis/url': redis.url });
  const open: WebSocket[] = [];
  const local = await startLimited(wsWorld([limit('team/p/ws', 2, HOUR)], wsPort));
  const global = await startLimited(
    wsWorld(
      [
        limit('team/g/ws', 2, HOUR, {
          mode: 'Global',
          global: {
            redisSecretRef: { namespace: 'team', name: 'ratelimit-redis', key: 'url' },
            timeoutMs: 200,
            failureMode: 'Closed',
          },
        }),
      ],
      wsPort,
    ),
    dir.dir,
  );
  try {
    for (const dp of [local, global]) {
      let first = await openWs(dp.port);
      // the Global plane may still be connecting to Redis (failureMode Closed: 503)
      for (let i = 0; first.status === 503 && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        first = await openWs(dp.port);
      }
      assert.is(first.status, 101);
      open.push(first.ws!);
      assert.is(await echo(first.ws!, 'a'), 'echo:a', 'the tunnel works after the chain');
      const second = await openWs(dp.port);
      assert.is(second.status, 101);
      open.push(second.ws!);
      const third = await openWs(dp.port);
      assert.is(third.status, 429, 'the third upgrade is limited');
      assert.is(await echo(second.ws!, 'b'), 'echo:b', 'open tunnels are not touched');
    }
  } finally {
    for (const ws of open) ws.terminate();
    await local.close();
    await global.close();
    await redis.stop();
    dir.remove();
    await new Promise((r) => wss.close(r));
  }
});

test('RFC 8441: a WebSocket over HTTP/2 counts too; the limited CONNECT gets 429 on its stream', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (c) => c.on('message', (d) => c.send('echo:' + String(d))));
  await new Promise((r) => wss.once('listening', r));
  const wsPort = (wss.address() as { port: number }).port;
  const s = wsWorld([limit('team/p/h2ws', 1, HOUR)], wsPort);
  const dp = await startLimited({ ...s, websocket: { ...s.websocket, http2: true } });
  const session = http2.connect(`http://127.0.0.1:${dp.port}`);
  const connect = () =>
    new Promise<IncomingHttpHeaders>((resolve) => {
      const st = session.request(
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
      st.on('error', () => undefined);
      st.once('response', (h) => resolve(h));
    });
  try {
    await new Promise<void>((resolve) =>
      session.once('remoteSettings', (x) => (x.enableConnectProtocol ? resolve() : undefined)),
    );
    assert.is((await connect())[':status'], 200);
    const limited = await connect();
    assert.is(limited[':status'], 429);
    assert.ok(Number(limited['retry-after']) > 0);
  } finally {
    session.destroy();
    await dp.close();
    await new Promise((r) => wss.close(r));
  }
});

function withLimits(s: PoolSnapshot, limits: RateLimitIR[]): PoolSnapshot {
  return { ...s, rateLimits: [...limits].sort((a, b) => (a.id < b.id ? -1 : 1)) };
}

test.run();
