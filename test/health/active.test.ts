import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createEndpointStates, type EndpointState } from '../../src/dataplane/balancer/index.ts';
import { ActiveHealthChecker } from '../../src/dataplane/health/index.ts';
import type { ClusterIR } from '../../src/ir/snapshot.ts';
import { cluster } from '../balancer/clusters.ts';

type Active = NonNullable<ClusterIR['healthCheck']['active']>;
function withActive(c: ClusterIR, active: Partial<Active>, ports?: number[]): ClusterIR {
  return {
    ...c,
    endpoints: ports ? ports.map((port) => ({ address: '127.0.0.1', port, zone: null })) : c.endpoints,
    healthCheck: {
      active: {
        path: '/healthz',
        intervalMs: 50,
        timeoutMs: 500,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
        expectedStatuses: [200],
        ...active,
      },
      passive: null,
    },
  };
}

async function waitFor(cond: () => boolean, limitMs = 5000): Promise<boolean> {
  const until = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** An HTTP/1.1 backend whose health status can be flipped; counts probes per path. */
async function backend(): Promise<{
  server: http.Server;
  port: number;
  status: { code: number };
  probes: string[];
}> {
  const status = { code: 200 };
  const probes: string[] = [];
  const server = http.createServer((req, res) => {
    probes.push(req.url ?? '');
    res.statusCode = status.code;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, status, probes };
}
function close(server: http.Server | http2.Http2Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

test('thresholds with an injected probe (round by round)', async () => {
  const c = withActive(cluster('RoundRobin', 1), {
    healthyThreshold: 3,
    unhealthyThreshold: 2,
    expectedStatuses: [200, 204],
  });
  const eps = [...createEndpointStates(c).values()];
  let next = 200;
  const changes: string[] = [];
  const checker = new ActiveHealthChecker(c, () => eps, {
    protocolRequest: async () => {
      if (next === 0) throw new Error('connect ECONNREFUSED');
      return next;
    },
    onChange: (ep, healthy) => changes.push(`${ep.key}=${healthy}`),
  });
  // [status returned this round, healthy afterwards]
  const rounds: [number, boolean][] = [
    [200, true],
    [500, true],
    [204, true],
    [500, true],
    [0, false],
    [200, false],
    [200, false],
    [503, false],
    [200, false],
    [204, false],
    [200, true],
    [404, true],
    [404, false],
  ];
  for (const [status, want] of rounds) {
    next = status;
    await checker.probeAll();
    assert.is(eps[0]!.healthy, want, `after ${status}`);
  }
  assert.equal(changes, ['10.0.0.1:8080=false', '10.0.0.1:8080=true', '10.0.0.1:8080=false']);
});

test('HTTP/1.1: a backend flipping to 500 becomes unhealthy, then recovers', async () => {
  const a = await backend();
  const b = await backend();
  const c = withActive(cluster('RoundRobin', 0), { path: '/ready' }, [a.port, b.port]);
  const eps = [...createEndpointStates(c).values()];
  const checker = new ActiveHealthChecker(c, () => eps);
  try {
    checker.start();
    assert.ok(await waitFor(() => a.probes.length >= 2 && b.probes.length >= 2));
    assert.ok(eps.every((e) => e.healthy));
    assert.ok(a.probes.every((p) => p === '/ready'));
    a.status.code = 500;
    const flippedAt = a.probes.length;
    assert.ok(await waitFor(() => !eps[0]!.healthy), 'a turns unhealthy');
    assert.ok(a.probes.length - flippedAt >= 2, 'only after unhealthyThreshold failed probes');
    assert.is(eps[1]!.healthy, true);
    a.status.code = 200;
    const recoveringAt = a.probes.length;
    assert.ok(await waitFor(() => eps[0]!.healthy), 'a recovers');
    assert.ok(a.probes.length - recoveringAt >= 2, 'only after healthyThreshold good probes');
    checker.stop();
    await new Promise((r) => setTimeout(r, 20)); // let a probe already on the wire arrive
    const stoppedAt = a.probes.length;
    await new Promise((r) => setTimeout(r, 200)); // four intervals
    assert.is(a.probes.length, stoppedAt, 'no probes after stop()');
  } finally {
    checker.stop();
    await close(a.server);
    await close(b.server);
  }
});

test('connection refused and timeouts count as failures', async () => {
  const silent = http.createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const refused = http.createServer();
  await new Promise<void>((r) => refused.listen(0, '127.0.0.1', r));
  const refusedPort = (refused.address() as AddressInfo).port;
  await close(refused); // nothing listens there any more
  const c = withActive(cluster('RoundRobin', 0), { timeoutMs: 100 }, [
    (silent.address() as AddressInfo).port,
    refusedPort,
  ]);
  const eps = [...createEndpointStates(c).values()];
  const checker = new ActiveHealthChecker(c, () => eps);
  try {
    checker.start();
    assert.ok(await waitFor(() => eps.every((e) => !e.healthy)), String(eps.map((e) => e.healthy)));
  } finally {
    checker.stop();
    await close(silent);
  }
});

test('h2c: probes over prior-knowledge HTTP/2', async () => {
  const status = { code: 200 };
  let probes = 0;
  const server = http2.createServer((req, res) => {
    probes++;
    res.statusCode = req.url === '/healthz' ? status.code : 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const c = withActive({ ...cluster('RoundRobin', 0), protocol: 'H2C' }, {}, [
    (server.address() as AddressInfo).port,
  ]);
  const eps = [...createEndpointStates(c).values()];
  const checker = new ActiveHealthChecker(c, () => eps);
  try {
    checker.start();
    assert.ok(await waitFor(() => probes >= 2));
    assert.is(eps[0]!.healthy, true);
    status.code = 503;
    assert.ok(await waitFor(() => !eps[0]!.healthy));
    status.code = 200;
    assert.ok(await waitFor(() => eps[0]!.healthy));
  } finally {
    checker.stop();
    await close(server);
  }
});

test('the endpoint list is read every round (a checker survives snapshot swaps)', async () => {
  const c = withActive(cluster('RoundRobin', 3), {});
  const all = [...createEndpointStates(c).values()];
  let current: EndpointState[] = all.slice(0, 1);
  const seen = new Set<string>();
  const checker = new ActiveHealthChecker(c, () => current, {
    protocolRequest: async (ep) => {
      seen.add(ep.key);
      return 200;
    },
  });
  await checker.probeAll();
  assert.equal([...seen], ['10.0.0.1:8080']);
  current = all;
  await checker.probeAll();
  assert.equal([...seen].sort(), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
});

test('stop({ resetHealth: true }) marks every endpoint healthy again', async () => {
  const c = withActive(cluster('RoundRobin', 2), { unhealthyThreshold: 1 });
  const eps = [...createEndpointStates(c).values()];
  const checker = new ActiveHealthChecker(c, () => eps, { protocolRequest: async () => 500 });
  await checker.probeAll();
  assert.equal(
    eps.map((e) => e.healthy),
    [false, false],
  );
  checker.stop();
  assert.equal(
    eps.map((e) => e.healthy),
    [false, false],
    'a plain stop keeps the verdict',
  );
  checker.stop({ resetHealth: true });
  assert.equal(
    eps.map((e) => e.healthy),
    [true, true],
  );
});

test('no active config: start() does nothing', async () => {
  let calls = 0;
  const c = cluster('RoundRobin', 1);
  const checker = new ActiveHealthChecker(c, () => [], { protocolRequest: async () => (calls++, 200) });
  checker.start();
  await checker.probeAll();
  checker.stop();
  assert.is(calls, 0);
});

test.run();
