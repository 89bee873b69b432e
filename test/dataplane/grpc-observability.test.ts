// Metrics and access logs by gRPC status: bulkhead_requests_total and the duration histogram carry
// grpc_status from the upstream's trailers or its trailers-only answer, from the gateway's own
// answers (UNIMPLEMENTED for no route), "" for non-gRPC requests, and "unknown" for a nonsense
// value, so the label's values stay bounded; the access log line records grpcStatus.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { grpcStatusIndex } from '../../src/dataplane/metrics.ts';
import { cluster, delay, route, snapshot, startProxy } from './fixtures.ts';

const id = (b: Buffer): Buffer => b;
const def = (path: string, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});

test('grpc-status values map to at most 19 label values', () => {
  const cases: [string | number | undefined, number][] = [
    ['0', 1],
    ['5', 6],
    ['9', 10],
    ['10', 11],
    ['16', 17],
    ['17', 18],
    ['05', 18],
    ['-1', 18],
    ['', 18],
    ['abc', 18],
    [undefined, 18],
    [12, 13],
    [99, 18],
  ];
  for (const [v, want] of cases) assert.is(grpcStatusIndex(v), want, String(v));
});

test('requests and durations by grpc_status; access log grpcStatus', async () => {
  const server = new grpc.Server();
  server.addService(
    { get: def('/shop.Cart/Get', false), list: def('/shop.Cart/List', true) },
    {
      get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        call.request.toString() === 'missing'
          ? cb({ code: grpc.status.NOT_FOUND, details: 'no such cart' })
          : cb(null, Buffer.from('cart')),
      list: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        call.write(Buffer.from('a'));
        call.write(Buffer.from('b'));
        // status after messages: it comes in the trailers, not in a trailers-only answer
        call.emit('error', { code: grpc.status.INTERNAL, details: 'boom' });
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  // a raw h2c upstream answering a grpc-status outside the 17 codes
  const odd = http2.createServer();
  odd.on('stream', (s) => {
    s.resume();
    s.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '99' },
      { endStream: true },
    );
  });
  await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
  const oddPort = (odd.address() as { port: number }).port;
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/odd/main', 'team/odd:80', { match: { path: { type: 'PathPrefix', value: '/odd.Svc' } } }),
        route('team/grpc/cart', 'team/grpc:80', {
          match: { path: { type: 'PathPrefix', value: '/shop.Cart' } },
        }),
      ],
      clusters: [
        cluster('team/grpc:80', [port], { protocol: 'H2C' }),
        cluster('team/odd:80', [oddPort], { protocol: 'H2C' }),
      ],
    }),
  );
  const client = new grpc.Client(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure());
  const unary = (path: string, body: string): Promise<number> =>
    new Promise((resolve) =>
      client.makeUnaryRequest(path, id, id, Buffer.from(body), (err) => resolve(err ? err.code : 0)),
    );
  try {
    assert.is(await unary('/shop.Cart/Get', 'ok'), grpc.status.OK);
    assert.is(await unary('/shop.Cart/Get', 'missing'), grpc.status.NOT_FOUND);
    assert.is(await unary('/shop.Cart/Get', 'missing'), grpc.status.NOT_FOUND);
    assert.is(await unary('/shop.Orders/Get', 'x'), grpc.status.UNIMPLEMENTED);
    const streamed = await new Promise<{ n: number; code: number }>((resolve) => {
      let n = 0;
      const call = client.makeServerStreamRequest('/shop.Cart/List', id, id, Buffer.alloc(0));
      call.on('data', () => n++);
      call.on('error', (e: grpc.ServiceError) => resolve({ n, code: e.code }));
      call.on('end', () => resolve({ n, code: 0 }));
    });
    assert.equal(streamed, { n: 2, code: grpc.status.INTERNAL });
    // an upstream answering a status outside the 17 codes is counted as "unknown"
    const session = http2.connect(`http://127.0.0.1:${dp.port}`);
    await new Promise<void>((resolve) => {
      const r = session.request({
        ':method': 'POST',
        ':path': '/odd.Svc/Call',
        'content-type': 'application/grpc',
      });
      r.resume();
      r.on('close', resolve);
      r.end();
    });
    session.close();
    const plain = await fetch(`http://127.0.0.1:${dp.port}/shop.Cart/page`);
    await plain.arrayBuffer();
    await delay(50);

    const text = await (await fetch(`http://127.0.0.1:${dp.adminPort}/metrics`)).text();
    const count = (labels: string): number => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`bulkhead_requests_total{${labels},product_line="test"}`));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    const base = 'pool="edge/pool",route="team/grpc/cart",cluster="team/grpc:80",code_class="2xx"';
    assert.is(count(`${base},grpc_status="0"`), 1, text);
    assert.is(count(`${base},grpc_status="5"`), 2);
    assert.is(count(`${base},grpc_status="13"`), 1);
    assert.is(count(`pool="edge/pool",route="",cluster="",code_class="2xx",grpc_status="12"`), 1);
    assert.is(
      count(
        `pool="edge/pool",route="team/odd/main",cluster="team/odd:80",code_class="2xx",grpc_status="unknown"`,
      ),
      1,
    );
    assert.match(
      text,
      /bulkhead_request_duration_seconds_count\{pool="edge\/pool",route="team\/grpc\/cart",grpc_status="5",product_line="test"\} 2/,
    );
    assert.match(
      text,
      /bulkhead_request_duration_seconds_count\{pool="edge\/pool",route="team\/grpc\/cart",grpc_status="0",product_line="test"\} 1/,
    );
    // the plain HTTP request (no grpc-status, grpc-js answers 415 or similar) carries ""
    assert.ok(
      text
        .split('\n')
        .some(
          (l) =>
            l.startsWith('bulkhead_requests_total{') &&
            l.includes('route="team/grpc/cart"') &&
            l.includes('grpc_status=""'),
        ),
      'non-gRPC request with grpc_status=""',
    );
    const values = new Set([...text.matchAll(/grpc_status="([^"]*)"/g)].map((m) => m[1]));
    for (const v of values) assert.ok(v === '' || v === 'unknown' || /^(1[0-6]|[0-9])$/.test(v!), v);

    const logs = dp.logs.records().filter((r) => r.msg === 'access');
    const byPath = (p: string) => logs.filter((r) => r.path === p).map((r) => r.grpcStatus);
    assert.equal(byPath('/shop.Cart/Get').sort(), ['0', '5', '5']);
    assert.equal(byPath('/shop.Orders/Get'), ['12']);
    assert.equal(byPath('/shop.Cart/List'), ['13']);
    assert.equal(byPath('/shop.Cart/page'), [null]);
    assert.equal(byPath('/odd.Svc/Call'), ['unknown']);
  } finally {
    client.close();
    await dp.close();
    server.forceShutdown();
    odd.close();
  }
});

test.run();
