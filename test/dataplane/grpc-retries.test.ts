// retries.on with gRPC status names: a trailers-only answer with RESOURCE_EXHAUSTED / INTERNAL /
// DEADLINE_EXCEEDED / CANCELLED / UNAVAILABLE is retried when the route names that status, and only
// then; the names never apply to non-gRPC requests.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import type { RetryOn } from '../../src/ir/snapshot.ts';
import { cluster, closeServer, httpBackend, request, route, snapshot, startProxy } from './fixtures.ts';

const id = (b: Buffer): Buffer => b;

test('gRPC statuses named in retries.on are retried; others are not', async () => {
  /** per call name: how many calls fail before one succeeds */
  const failing = new Map<string, { code: grpc.status; left: number; calls: number }>();
  const server = new grpc.Server();
  server.addService(
    {
      call: {
        path: '/retry.Svc/Call',
        requestStream: false,
        responseStream: false,
        requestSerialize: id,
        requestDeserialize: id,
        responseSerialize: id,
        responseDeserialize: id,
      },
    },
    {
      call: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const f = failing.get(call.request.toString())!;
        f.calls++;
        if (f.left-- > 0) return cb({ code: f.code, details: 'try again' });
        cb(null, Buffer.from('ok'));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const on: RetryOn[] = ['resource-exhausted', 'internal', 'deadline-exceeded', 'cancelled', 'unavailable'];
  const dp = await startProxy(
    snapshot({
      routes: [
        route('team/grpc/main', 'team/grpc:80', {
          retries: { attempts: 2, on, perTryTimeoutMs: 0, budgetPercent: 100, minRetriesPerSecond: 100 },
        }),
      ],
      clusters: [cluster('team/grpc:80', [port], { protocol: 'H2C' })],
    }),
  );
  const client = new grpc.Client(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure());
  const call = (name: string): Promise<number> =>
    new Promise((resolve) =>
      client.makeUnaryRequest('/retry.Svc/Call', id, id, Buffer.from(name), (err) =>
        resolve(err ? err.code : 0),
      ),
    );
  try {
    const retried: [string, grpc.status][] = [
      ['exhausted', grpc.status.RESOURCE_EXHAUSTED],
      ['internal', grpc.status.INTERNAL],
      ['deadline', grpc.status.DEADLINE_EXCEEDED],
      ['cancelled', grpc.status.CANCELLED],
      ['unavailable', grpc.status.UNAVAILABLE],
    ];
    for (const [name, code] of retried) {
      failing.set(name, { code, left: 1, calls: 0 });
      assert.is(await call(name), grpc.status.OK, name);
      assert.is(failing.get(name)!.calls, 2, `${name}: one retry`);
    }
    // not named: answered as is, no retry
    failing.set('notfound', { code: grpc.status.NOT_FOUND, left: 1, calls: 0 });
    assert.is(await call('notfound'), grpc.status.NOT_FOUND);
    assert.is(failing.get('notfound')!.calls, 1);
    // attempts bound the retries: 3 failures with attempts 2 → the third answer is the client's
    failing.set('stubborn', { code: grpc.status.INTERNAL, left: 5, calls: 0 });
    assert.is(await call('stubborn'), grpc.status.INTERNAL);
    assert.is(failing.get('stubborn')!.calls, 3);
  } finally {
    client.close();
    await dp.close();
    server.forceShutdown();
  }
});

test('gRPC status names do not apply to non-gRPC requests', async () => {
  let calls = 0;
  const be = await httpBackend((req, res) => {
    calls++;
    req.resume();
    // looks like a gRPC failure, but the request was not gRPC
    res.setHeader('grpc-status', '13');
    res.end('x');
  });
  const dp = await startProxy(
    snapshot({
      routes: [route('team/web/main', 'team/web:80', { retries: { attempts: 2, on: ['internal'] } })],
      clusters: [cluster('team/web:80', [be.port])],
    }),
  );
  try {
    const r = await request(dp.port, { path: '/' });
    assert.is(r.status, 200);
    assert.is(calls, 1);
  } finally {
    await dp.close();
    await closeServer(be);
  }
});

test.run();
