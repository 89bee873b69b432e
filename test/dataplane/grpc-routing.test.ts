// gRPC-native routing end to end: RouteSplit YAML with matches[].grpc → compiler → data plane →
// real @grpc/grpc-js servers. Two services on different backends, one method of a service routed
// elsewhere (exact beats the service-wide match), a RegularExpression service match, and a method
// no rule matches answered by the gateway with UNIMPLEMENTED (trailers-only) instead of HTTP 404.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { startProxy } from './fixtures.ts';

const id = (b: Buffer): Buffer => b;
const unary = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: id,
  requestDeserialize: id,
  responseSerialize: id,
  responseDeserialize: id,
});

/** A grpc-js server answering every listed method with `<name>:<path>`. */
async function namedServer(name: string, paths: string[]): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const impl: grpc.UntypedServiceImplementation = {};
  paths.forEach((p, i) => {
    def[`m${i}`] = unary(p);
    impl[`m${i}`] = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, Buffer.from(`${name}:${p}`));
  });
  server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

const TS = '/grpc.testing.TestService';
const servers: grpc.Server[] = [];
let dp: Awaited<ReturnType<typeof startProxy>>;
let client: grpc.Client;

function service(name: string, port: number): object[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'shop' },
      spec: { ports: [{ name: 'grpc', port: 9000, appProtocol: 'kubernetes.io/h2c' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'grpc', port, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    },
  ];
}

test.before(async () => {
  const tests = await namedServer('tests', [
    `${TS}/UnaryCall`,
    `${TS}/EmptyCall`,
    `${TS}/StreamingOutputCall`,
  ]);
  const stream = await namedServer('stream', [`${TS}/StreamingOutputCall`]);
  const cart = await namedServer('cart', ['/shop.Cart/Get', '/shop.CartAdmin/Get', '/shop.Orders/Get']);
  servers.push(tests.server, stream.server, cart.server);
  const docs = [
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: 'edge', namespace: 'shop', generation: 1 },
      // a busy test machine must not trip event-loop-lag shedding
      spec: { productLine: 'shop', overload: { maxEventLoopDelay: '10s' } },
    },
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'RouteSplit',
      metadata: { name: 'grpc', namespace: 'shop', generation: 1 },
      spec: {
        poolRef: { name: 'edge' },
        rules: [
          {
            name: 'tests',
            matches: [{ grpc: { service: 'grpc.testing.TestService' } }],
            backends: [{ name: 'tests', port: 9000 }],
          },
          {
            name: 'streaming',
            matches: [{ grpc: { service: 'grpc.testing.TestService', method: 'StreamingOutputCall' } }],
            backends: [{ name: 'stream', port: 9000 }],
          },
          {
            name: 'cart',
            matches: [{ grpc: { type: 'RegularExpression', service: 'shop\\.Cart.*', method: 'Get|List' } }],
            backends: [{ name: 'cart', port: 9000 }],
          },
        ],
      },
    },
    ...service('tests', tests.port),
    ...service('stream', stream.port),
    ...service('cart', cart.port),
  ];
  const result = compile(bagFromDocuments(docs));
  const accepted = result.statuses.routeSplits['shop/grpc']!.parents[0]!.conditions.find(
    (c) => c.type === 'Accepted',
  );
  assert.is(accepted?.status, 'True', accepted?.message);
  dp = await startProxy(result.snapshots['shop/edge']!);
  client = new grpc.Client(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure());
});

test.after(async () => {
  client.close();
  await dp.close();
  for (const s of servers) s.forceShutdown();
});

function call(path: string): Promise<{ text: string } | { code: number; details: string }> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(path, id, id, Buffer.from('x'), (err, res) =>
      resolve(err ? { code: err.code, details: err.details } : { text: res!.toString() }),
    ),
  );
}

test('service match, one method routed elsewhere, regex service match', async () => {
  assert.equal(await call(`${TS}/UnaryCall`), { text: `tests:${TS}/UnaryCall` });
  assert.equal(await call(`${TS}/EmptyCall`), { text: `tests:${TS}/EmptyCall` });
  assert.equal(await call(`${TS}/StreamingOutputCall`), { text: `stream:${TS}/StreamingOutputCall` });
  assert.equal(await call('/shop.Cart/Get'), { text: 'cart:/shop.Cart/Get' });
  assert.equal(await call('/shop.CartAdmin/Get'), { text: 'cart:/shop.CartAdmin/Get' });
});

test('a method no rule matches: UNIMPLEMENTED from the gateway, not HTTP 404', async () => {
  for (const path of ['/shop.Orders/Get', '/shop.Cart/Delete', '/grpc.testing.Other/UnaryCall']) {
    const r = await call(path);
    assert.ok('code' in r, `${path} was answered: ${JSON.stringify(r)}`);
    if ('code' in r) {
      assert.is(r.code, grpc.status.UNIMPLEMENTED, path);
      assert.match(r.details, /no route/);
    }
  }
  // on the wire: a trailers-only answer (HEADERS with END_STREAM, :status 200, grpc-status 12)
  const session = http2.connect(`http://127.0.0.1:${dp.port}`);
  try {
    const head = await new Promise<{ h: http2.IncomingHttpHeaders; flags: number }>((resolve, reject) => {
      const s = session.request({
        ':method': 'POST',
        ':path': '/shop.Orders/Get',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      s.on('response', (h, flags) => resolve({ h, flags }));
      s.on('error', reject);
      s.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    assert.is(head.h[':status'], 200);
    assert.is(head.h['grpc-status'], '12');
    assert.is(head.h['x-bulkhead-reason'], 'no-route');
    assert.ok((head.flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0, 'trailers-only');
  } finally {
    session.close();
  }
  // a non-gRPC request still gets the plain 404
  const r = await fetch(`http://127.0.0.1:${dp.port}/shop.Orders/Get`);
  assert.is(r.status, 404);
  await r.arrayBuffer();
});

test.run();
