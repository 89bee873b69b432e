// gRPC through the proxy over h2c: unary, server/client/bidi streaming, metadata and trailers,
// status codes, a 4 MiB message, the proxy's own grpc-timeout deadline, client cancellation reaching
// the server, and proxy-side failures answered as trailers-only gRPC responses.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { closeServer, cluster, delay, listen, route, snapshot, startProxy } from './fixtures.ts';

const id = (b: Buffer): Buffer => b;
function method(
  path: string,
  requestStream: boolean,
  responseStream: boolean,
): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
}
const service = {
  unary: method('/test.Echo/Unary', false, false),
  serverStream: method('/test.Echo/ServerStream', false, true),
  clientStream: method('/test.Echo/ClientStream', true, false),
  bidi: method('/test.Echo/Bidi', true, true),
  hang: method('/test.Echo/Hang', false, true),
} satisfies grpc.ServiceDefinition;

const EchoClient = grpc.makeGenericClientConstructor(service, 'Echo');
type AnyClient = grpc.Client & Record<string, (...a: unknown[]) => unknown>;

const events: string[] = [];
const BIG = 8 * 1024 * 1024;

async function startGrpcServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': BIG,
    'grpc.max_send_message_length': BIG,
  });
  server.addService(service, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const user = call.metadata.get('x-user')[0];
      const md = new grpc.Metadata();
      md.set('x-initial', 'i1');
      call.sendMetadata(md);
      const text = call.request.toString();
      if (text === 'fail') return cb({ code: grpc.status.NOT_FOUND, details: 'nope' });
      const trailer = new grpc.Metadata();
      trailer.set('x-trailer', 't1');
      trailer.set('x-user-seen', String(user ?? ''));
      cb(null, call.request.length > 1000 ? call.request : Buffer.from('echo:' + text), trailer);
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      for (let i = 0; i < 5; i++) call.write(Buffer.from(`m${i}`));
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const parts: string[] = [];
      call.on('data', (b: Buffer) => parts.push(b.toString()));
      call.on('end', () => cb(null, Buffer.from(parts.join(','))));
    },
    bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (b: Buffer) => call.write(Buffer.from('re:' + b.toString())));
      call.on('end', () => call.end());
    },
    hang: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      call.write(Buffer.from('started'));
      call.on('cancelled', () => events.push('cancelled:' + call.request.toString()));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

let server: grpc.Server;
let dp: Awaited<ReturnType<typeof startProxy>>;
let client: AnyClient;

test.before(async () => {
  const g = await startGrpcServer();
  server = g.server;
  const s = snapshot({
    routes: [
      route('team/grpc/none', 'team/empty:80', {
        match: { path: { type: 'PathPrefix', value: '/test.Empty/' } },
      }),
      route('team/grpc/main', 'team/grpc:80', { timeouts: { readMs: 10_000 } }),
    ],
    clusters: [
      cluster('team/grpc:80', [g.port], { protocol: 'H2C' }),
      cluster('team/empty:80', [], { protocol: 'H2C' }),
    ],
  });
  dp = await startProxy(s);
  client = new EchoClient(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': BIG,
    'grpc.max_send_message_length': BIG,
  }) as unknown as AnyClient;
});

test.after(async () => {
  client.close();
  await dp.close();
  server.forceShutdown();
});

test('unary with metadata, initial metadata and custom trailers', async () => {
  const md = new grpc.Metadata();
  md.set('x-user', 'u1');
  const got = await new Promise<{ res: Buffer; initial: grpc.Metadata; status: grpc.StatusObject }>(
    (resolve, reject) => {
      let initial: grpc.Metadata | null = null;
      let res: Buffer | null = null;
      const call = client.unary(Buffer.from('hi'), md, (err: grpc.ServiceError | null, r: Buffer) => {
        if (err) reject(err);
        res = r;
      }) as grpc.ClientUnaryCall;
      call.on('metadata', (m) => (initial = m));
      call.on('status', (s) => setImmediate(() => resolve({ res: res!, initial: initial!, status: s })));
    },
  );
  assert.is(got.res.toString(), 'echo:hi');
  assert.equal(got.initial.get('x-initial'), ['i1']);
  assert.is(got.status.code, grpc.status.OK);
  assert.equal(got.status.metadata.get('x-trailer'), ['t1']);
  assert.equal(got.status.metadata.get('x-user-seen'), ['u1']);
});

test('error status and message pass through', async () => {
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    client.unary(Buffer.from('fail'), (e: grpc.ServiceError) => resolve(e)),
  );
  assert.is(err.code, grpc.status.NOT_FOUND);
  assert.is(err.details, 'nope');
});

test('server, client and bidi streaming', async () => {
  const ss = client.serverStream(Buffer.from('x')) as grpc.ClientReadableStream<Buffer>;
  const got: string[] = [];
  ss.on('data', (b: Buffer) => got.push(b.toString()));
  await new Promise((r) => ss.on('status', r));
  assert.equal(got, ['m0', 'm1', 'm2', 'm3', 'm4']);

  const joined = await new Promise<string>((resolve, reject) => {
    const cs = client.clientStream((e: grpc.ServiceError | null, r: Buffer) =>
      e ? reject(e) : resolve(r.toString()),
    ) as grpc.ClientWritableStream<Buffer>;
    for (let i = 0; i < 5; i++) cs.write(Buffer.from(`c${i}`));
    cs.end();
  });
  assert.is(joined, 'c0,c1,c2,c3,c4');

  const bidi = client.bidi() as grpc.ClientDuplexStream<Buffer, Buffer>;
  const replies: string[] = [];
  bidi.on('data', (b: Buffer) => {
    replies.push(b.toString());
    if (replies.length < 3) bidi.write(Buffer.from(`b${replies.length}`));
    else bidi.end();
  });
  bidi.write(Buffer.from('b0'));
  await new Promise((r) => bidi.on('status', r));
  assert.equal(replies, ['re:b0', 're:b1', 're:b2']);
});

test('a 4 MiB message both ways', async () => {
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  const res = await new Promise<Buffer>((resolve, reject) =>
    client.unary(big, (e: grpc.ServiceError | null, r: Buffer) => (e ? reject(e) : resolve(r))),
  );
  assert.is(res.length, big.length);
  assert.ok(res.equals(big));
});

test('client cancellation reaches the server as a cancelled call', async () => {
  const call = client.hang(Buffer.from('c1')) as grpc.ClientReadableStream<Buffer>;
  call.on('error', () => undefined);
  await new Promise((r) => call.once('data', r));
  call.cancel();
  for (let i = 0; i < 50 && !events.includes('cancelled:c1'); i++) await delay(20);
  assert.ok(events.includes('cancelled:c1'), 'server saw the cancellation');
});

test('grpc-timeout is enforced by the proxy: DEADLINE_EXCEEDED and the upstream stream is reset', async () => {
  // a raw h2 backend that ignores grpc-timeout, and a raw h2 client that enforces nothing itself
  const resets: number[] = [];
  const raw = http2.createServer();
  raw.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(Buffer.from([0, 0, 0, 0, 1, 65]));
    stream.on('close', () => resets.push(stream.rstCode));
    stream.on('error', () => undefined);
  });
  const rawBe = await listen(raw);
  const s = snapshot({
    routes: [route('team/grpc/raw', 'team/raw:80')],
    clusters: [cluster('team/raw:80', [rawBe.port], { protocol: 'H2C' })],
  });
  const p2 = await startProxy(s);
  try {
    const session = http2.connect(`http://127.0.0.1:${p2.port}`);
    const r = await new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = session.request({
          ':method': 'POST',
          ':path': '/test.Echo/Hang',
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': '150m',
        });
        let headers: http2.IncomingHttpHeaders = {};
        let trailers: http2.IncomingHttpHeaders = {};
        req.on('response', (h) => (headers = h));
        req.on('trailers', (t) => (trailers = t));
        req.on('data', () => undefined);
        req.on('close', () => resolve({ headers, trailers }));
        req.on('error', reject);
        req.end(Buffer.from([0, 0, 0, 0, 0]));
      },
    );
    session.close();
    assert.is(r.headers[':status'], 200);
    assert.is(r.trailers['grpc-status'], '4');
    assert.is(r.trailers['x-bulkhead-reason'], 'deadline-exceeded');
    for (let i = 0; i < 50 && resets.length === 0; i++) await delay(20);
    assert.equal(resets, [http2.constants.NGHTTP2_CANCEL], 'the upstream stream was reset with CANCEL');
  } finally {
    await p2.close();
    await closeServer(rawBe);
  }
});

test('grpc-timeout before any response: trailers-only DEADLINE_EXCEEDED', async () => {
  const raw = http2.createServer();
  raw.on('stream', (stream) => stream.on('error', () => undefined)); // never answers
  const rawBe = await listen(raw);
  const p2 = await startProxy(
    snapshot({
      routes: [route('team/grpc/raw', 'team/raw:80')],
      clusters: [cluster('team/raw:80', [rawBe.port], { protocol: 'H2C' })],
    }),
  );
  try {
    const err = await new Promise<{ code: number; details: string }>((resolve) => {
      const session = http2.connect(`http://127.0.0.1:${p2.port}`);
      const req = session.request({
        ':method': 'POST',
        ':path': '/test.Echo/Unary',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '100m',
      });
      req.on('response', (h) => {
        session.close();
        resolve({ code: Number(h['grpc-status']), details: String(h['x-bulkhead-reason']) });
      });
      req.on('error', () => undefined);
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.is(err.code, grpc.status.DEADLINE_EXCEEDED);
    assert.is(err.details, 'deadline-exceeded');
  } finally {
    await p2.close();
    await closeServer(rawBe);
  }
});

test('no healthy endpoint → trailers-only UNAVAILABLE, not an HTTP error', async () => {
  const EmptyClient = grpc.makeGenericClientConstructor(
    { unary: method('/test.Empty/Unary', false, false) },
    'Empty',
  );
  const c = new EmptyClient(
    `127.0.0.1:${dp.port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as AnyClient;
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    c.unary(Buffer.from('x'), (e: grpc.ServiceError) => resolve(e)),
  );
  c.close();
  assert.is(err.code, grpc.status.UNAVAILABLE);
  assert.match(err.details, /no healthy upstream/);
});

test('trailers-only UNAVAILABLE passes through; with `unavailable` retries it is retried elsewhere', async () => {
  let calls = 0;
  const flaky = http2.createServer();
  flaky.on('stream', (stream) => {
    calls++;
    stream.on('error', () => undefined);
    stream.resume();
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'down' },
      { endStream: true },
    );
  });
  const flakyBe = await listen(flaky);
  const g = await startGrpcServer();
  const clusters = [
    cluster('team/flaky:80', [flakyBe.port], { protocol: 'H2C' }),
    cluster('team/grpc:80', [flakyBe.port, g.port], { protocol: 'H2C' }),
  ];
  const routes = [
    route('team/grpc/flaky', 'team/flaky:80', {
      match: { path: { type: 'PathPrefix', value: '/test.Flaky' } },
    }),
    route('team/grpc/main', 'team/grpc:80', {
      retries: { attempts: 1, on: ['unavailable'], minRetriesPerSecond: 100 },
    }),
  ];
  const p2 = await startProxy(snapshot({ routes, clusters }));
  try {
    // no retries on this route: the client sees the upstream's own status, not a broken stream
    const FlakyClient = grpc.makeGenericClientConstructor(
      { unary: method('/test.Flaky/Unary', false, false) },
      'Flaky',
    );
    const fc = new FlakyClient(
      `127.0.0.1:${p2.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AnyClient;
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      fc.unary(Buffer.from('x'), (e: grpc.ServiceError) => resolve(e)),
    );
    fc.close();
    assert.is(err.code, grpc.status.UNAVAILABLE);
    assert.is(err.details, 'down');
    // a gRPC client sends no content-length: the proxy keeps a copy of the (small) body to replay
    const c = new EchoClient(
      `127.0.0.1:${p2.port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as AnyClient;
    for (let i = 0; i < 6; i++) {
      const res = await new Promise<Buffer>((resolve, reject) =>
        c.unary(Buffer.from('r' + i), (e: grpc.ServiceError | null, b: Buffer) =>
          e ? reject(e) : resolve(b),
        ),
      );
      assert.is(res.toString(), 'echo:r' + i);
    }
    c.close();
    assert.ok(calls >= 3, `the flaky endpoint was tried (${calls})`);
  } finally {
    await p2.close();
    await closeServer(flakyBe);
    g.server.forceShutdown();
  }
});

test.run();
