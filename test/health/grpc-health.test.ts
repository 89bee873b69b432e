// gRPC health checking of H2C clusters against a real @grpc/grpc-js server implementing
// grpc.health.v1.Health/Check (a hand-rolled service definition with its own protobuf codec, so the
// prober's encoder is not tested against itself): SERVING is healthy; NOT_SERVING, an unknown
// service (NOT_FOUND) and a probe that never answers are failures; thresholds as for HTTP checks;
// one connection per endpoint is reused between probes; through the proxy an endpoint flipping to
// NOT_SERVING is taken out of rotation and comes back once SERVING again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as grpc from '@grpc/grpc-js';
import { createEndpointStates } from '../../src/dataplane/balancer/index.ts';
import { ActiveHealthChecker } from '../../src/dataplane/health/index.ts';
import { decodeHealthStatus, encodeHealthRequest } from '../../src/dataplane/health/grpc-probe.ts';
import type { ClusterIR } from '../../src/ir/snapshot.ts';
import { cluster, delay, route, snapshot, startProxy } from '../dataplane/fixtures.ts';

const SERVING = 1;
const NOT_SERVING = 2;

// test-side protobuf: HealthCheckRequest { string service = 1 } / HealthCheckResponse { enum status = 1 }
// (an object: grpc-js takes a falsy deserialized request, like '', for a missing message)
function readService(b: Buffer): { service: string } {
  if (b.length === 0) return { service: '' };
  assert.is(b[0], 0x0a, 'field 1, length-delimited');
  assert.ok(b[1]! < 0x80, 'short names only in this test');
  return { service: b.subarray(2, 2 + b[1]!).toString('utf8') };
}

interface HealthBackend {
  server: grpc.Server;
  port: number;
  /** per service name; 'hang' never answers; a missing name is NOT_FOUND */
  status: Map<string, number | 'hang'>;
  checks: string[];
  echoPort?: number;
}

async function healthBackend(name: string): Promise<HealthBackend> {
  const server = new grpc.Server();
  const status = new Map<string, number | 'hang'>();
  const checks: string[] = [];
  server.addService(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (r: { service: string }) => Buffer.from(r.service),
        requestDeserialize: readService,
        responseSerialize: (n: number) => Buffer.from([0x08, n]),
        responseDeserialize: (b: Buffer) => b[1],
      },
      echo: {
        path: '/test.Echo/Who',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      check: (call: grpc.ServerUnaryCall<{ service: string }, number>, cb: grpc.sendUnaryData<number>) => {
        checks.push(call.request.service);
        const s = status.get(call.request.service);
        if (s === 'hang') return;
        if (s === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        cb(null, s);
      },
      echo: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
        cb(null, Buffer.from(name)),
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { server, port, status, checks };
}

function h2cCluster(
  ports: number[],
  service: string,
  over: Partial<NonNullable<ClusterIR['healthCheck']['active']>> = {},
): ClusterIR {
  return cluster('team/grpc:80', ports, {
    protocol: 'H2C',
    healthCheck: {
      active: {
        path: '/healthz',
        intervalMs: 40,
        timeoutMs: 300,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        expectedStatuses: [200],
        grpc: { service },
        ...over,
      },
    },
  });
}

async function waitFor(cond: () => boolean, limitMs = 5000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) return false;
    await delay(10);
  }
  return true;
}

test('request encoding and response decoding', () => {
  assert.equal([...encodeHealthRequest('')], [0, 0, 0, 0, 0]);
  assert.equal([...encodeHealthRequest('a.B')], [0, 0, 0, 0, 5, 0x0a, 3, 0x61, 0x2e, 0x42]);
  const long = encodeHealthRequest('x'.repeat(200));
  assert.equal([...long.subarray(0, 8)], [0, 0, 0, 0, 203, 0x0a, 0xc8, 0x01]);
  assert.is(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), SERVING);
  assert.is(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 0])), 0, 'absent field = UNKNOWN');
  // an unknown length-delimited field before the status is skipped
  assert.is(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 6, 0x12, 2, 0x41, 0x42, 0x08, 2])), NOT_SERVING);
  assert.is(decodeHealthStatus(Buffer.from([0, 0, 0, 0, 3, 0x08, 1])), -1, 'truncated');
  assert.is(decodeHealthStatus(Buffer.from([1, 0, 0, 0, 2, 0x08, 1])), -1, 'compressed');
});

test('checker: NOT_SERVING takes the endpoint out after unhealthyThreshold, SERVING brings it back', async () => {
  const b = await healthBackend('a');
  b.status.set('shop.Cart', SERVING);
  const c = h2cCluster([b.port], 'shop.Cart');
  const eps = [...createEndpointStates(c).values()];
  const changes: boolean[] = [];
  const checker = new ActiveHealthChecker(c, () => eps, { onChange: (_ep, h) => changes.push(h) });
  try {
    await checker.probeAll();
    await checker.probeAll();
    assert.ok(eps[0]!.healthy);
    b.status.set('shop.Cart', NOT_SERVING);
    await checker.probeAll();
    assert.ok(eps[0]!.healthy, 'one failure is below unhealthyThreshold 2');
    await checker.probeAll();
    assert.not.ok(eps[0]!.healthy);
    b.status.set('shop.Cart', SERVING);
    await checker.probeAll();
    assert.not.ok(eps[0]!.healthy, 'one success is below healthyThreshold 2');
    await checker.probeAll();
    assert.ok(eps[0]!.healthy);
    assert.equal(changes, [false, true]);
    assert.ok(
      b.checks.every((s) => s === 'shop.Cart'),
      b.checks.join(','),
    );
  } finally {
    checker.stop();
    b.server.forceShutdown();
  }
});

test('checker: unknown service (NOT_FOUND), a probe that never answers, and a dead port are failures', async () => {
  const b = await healthBackend('a');
  b.status.set('', SERVING);
  for (const [service, setup] of [
    ['shop.Unknown', () => undefined],
    ['shop.Slow', () => b.status.set('shop.Slow', 'hang')],
  ] as const) {
    setup();
    const c = h2cCluster([b.port], service, { timeoutMs: 100, unhealthyThreshold: 1 });
    const eps = [...createEndpointStates(c).values()];
    const checker = new ActiveHealthChecker(c, () => eps);
    const t0 = Date.now();
    await checker.probeAll();
    checker.stop();
    assert.not.ok(eps[0]!.healthy, service);
    assert.ok(Date.now() - t0 < 2000, `${service}: the probe is bounded by its timeout`);
  }
  // the server as a whole ('') is SERVING
  const ok = h2cCluster([b.port], '', { unhealthyThreshold: 1 });
  const okEps = [...createEndpointStates(ok).values()];
  const okChecker = new ActiveHealthChecker(ok, () => okEps);
  await okChecker.probeAll();
  okChecker.stop();
  assert.ok(okEps[0]!.healthy);
  b.server.forceShutdown();

  const dead = h2cCluster([b.port], '', { unhealthyThreshold: 1, timeoutMs: 500 });
  const deadEps = [...createEndpointStates(dead).values()];
  const deadChecker = new ActiveHealthChecker(dead, () => deadEps);
  await deadChecker.probeAll();
  deadChecker.stop();
  assert.not.ok(deadEps[0]!.healthy, 'connection refused');
});

test('through the proxy: an endpoint flipping to NOT_SERVING gets no calls, then serves again', async () => {
  const a = await healthBackend('a');
  const b = await healthBackend('b');
  a.status.set('test.Echo', SERVING);
  b.status.set('test.Echo', SERVING);
  const dp = await startProxy(
    snapshot({
      routes: [route('team/grpc/main', 'team/grpc:80')],
      clusters: [h2cCluster([a.port, b.port], 'test.Echo', { healthyThreshold: 1, unhealthyThreshold: 1 })],
    }),
  );
  const client = new grpc.Client(`127.0.0.1:${dp.port}`, grpc.credentials.createInsecure());
  const who = (): Promise<string> =>
    new Promise((resolve, reject) =>
      client.makeUnaryRequest(
        '/test.Echo/Who',
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.alloc(0),
        (err, res) => (err ? reject(err) : resolve(res!.toString())),
      ),
    );
  const answers = async (n: number): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await who());
    return [...seen].sort();
  };
  try {
    assert.equal(await answers(12), ['a', 'b']);
    b.status.set('test.Echo', NOT_SERVING);
    const checksBefore = b.checks.length;
    assert.ok(await waitFor(() => b.checks.length >= checksBefore + 2));
    assert.equal(await answers(12), ['a'], 'NOT_SERVING endpoint taken out');
    b.status.set('test.Echo', SERVING);
    const again = b.checks.length;
    assert.ok(await waitFor(() => b.checks.length >= again + 2));
    assert.equal(await answers(12), ['a', 'b'], 'back in rotation');
  } finally {
    client.close();
    await dp.close();
    a.server.forceShutdown();
    b.server.forceShutdown();
  }
});

test.run();
