// The benchmark's HTTPS and gRPC-Web variants of the Bulkhead snapshot load in a real data plane and
// pass the runner's own checks: HTTPS with the openssl-made bench certificate read through
// `--secrets`, TLS 1.3 negotiated and TLS 1.2 refused; gRPC-Web (grpcWeb on the gRPC route) answered
// with the message frame and the trailer frame, plain gRPC on the same route unchanged. Backends are
// real: a node:http server with the bench body and a @grpc/grpc-js Health/Check server over h2c.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { checkGrpc, checkGrpcWeb, checkHttp, GRPC_METHOD } from '../../bench/check.ts';
import { BACKEND_BODY } from '../../bench/nginx-config.ts';
import { benchSnapshot } from '../../bench/snapshot.ts';
import { checkHttps, writeBenchCert } from '../../bench/tls.ts';
import { closeServer, httpBackend } from '../dataplane/fixtures.ts';
import { startLimited } from '../ratelimit/fixtures.ts';

const id = (b: Buffer): Buffer => b;

async function healthServer(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const check: grpc.MethodDefinition<Buffer, Buffer> = {
    path: GRPC_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: id,
    requestDeserialize: id,
    responseSerialize: id,
    responseDeserialize: id,
  };
  server.addService(
    { check },
    // HealthCheckResponse{status: SERVING}
    { check: (_call: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from([0x08, 0x01])) },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port };
}

test('bench HTTPS + gRPC-Web snapshot: TLS 1.3 only, gRPC-Web translated, plain gRPC unchanged', async () => {
  const be = await httpBackend((req, res) => {
    req.resume();
    req.on('end', () => res.end(BACKEND_BODY));
  });
  const g = await healthServer();
  const dir = mkdtempSync(join(tmpdir(), 'bh-bench-edge-'));
  const cert = writeBenchCert(dir);
  try {
    const s = benchSnapshot({
      port: 0,
      adminPort: 0,
      httpBackendPort: be.port,
      grpcBackendPort: g.port,
      tlsPort: 0,
      grpcWeb: true,
    });
    assert.is(s.listener.tls?.minVersion, 'TLS1.3');
    const dp = await startLimited(s, dir);
    try {
      assert.ok(dp.tlsPort > 0);
      await checkHttps(dp.tlsPort, cert.certPem);
      await checkHttp(dp.port);
      await checkGrpc(dp.port);
      await checkGrpcWeb(dp.port);
    } finally {
      await dp.close();
    }
    // without grpcWeb on the route the same request is not translated, and the check says so
    const plain = benchSnapshot({ port: 0, adminPort: 0, httpBackendPort: be.port, grpcBackendPort: g.port });
    assert.is(plain.listener.tls, null);
    assert.is(plain.routes.find((r) => r.rule === 'grpc')?.grpcWeb, undefined);
    const dp2 = await startLimited(plain);
    try {
      await checkGrpc(dp2.port);
      let failed: Error | null = null;
      await checkGrpcWeb(dp2.port).catch((e: Error) => (failed = e));
      assert.ok(failed !== null, 'gRPC-Web check passed on a route without grpcWeb');
    } finally {
      await dp2.close();
    }
  } finally {
    await closeServer(be);
    g.server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
