// Issue 6 end to end, every part real: kube-apiserver + etcd, the operator with its config stream,
// a `bulkhead dataplane` process holding its pool's credential (read from the Secret the operator
// made, as the pod would mount it), and backends in a network namespace whose address goes into
// the EndpointSlices (the API server rejects loopback endpoints).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { createTestHost, nextTestAddresses, type TestHost } from '../cluster/netns.ts';
import {
  applyDocs,
  getJson,
  installCrds,
  kubectlOk,
  silentLogger,
  waitFor,
} from '../operator/cluster-fixtures.ts';
import { startOperator, type OperatorHandle } from '../../src/operator/index.ts';
import { configStreamExtraServer, type OperatorConfigStream } from '../../src/xds/operator-stream.ts';
import { ConfigStreamClient } from '../../src/xds/client.ts';

const MASTER_KEY = Buffer.alloc(32, 42);
let cluster: TestCluster;
let host: TestHost;
let op: OperatorHandle | null = null;
let stream: OperatorConfigStream;
let dataplane: ChildProcess | null = null;
let streamPort = 0;
let dpPort = 0;
let adminPort = 0;
const tmp = mkdtempSync(join(tmpdir(), 'bh-e2e-'));
const agent = new Agent({ connections: 16 });

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startOp(): Promise<void> {
  stream = configStreamExtraServer({ addr: `127.0.0.1:${streamPort}`, masterKey: MASTER_KEY });
  op = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    metricsAddr: false,
    logger: silentLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 200,
    controlPlaneAddress: `127.0.0.1:${streamPort}`,
    extraServers: [stream],
  });
}

async function get(path: string): Promise<{ status: number; body: string }> {
  const r = await request(`http://127.0.0.1:${dpPort}${path}`, {
    headers: { host: 'shop.example.com' },
    dispatcher: agent,
  });
  return { status: r.statusCode, body: await r.body.text() };
}

async function metric(name: string): Promise<number> {
  const r = await request(`http://127.0.0.1:${adminPort}/metrics`, { dispatcher: agent });
  const text = await r.body.text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

const route = (w1: number, w2: number) => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'RouteSplit',
  metadata: { name: 'shop', namespace: 'team' },
  spec: {
    poolRef: { name: 'shop', namespace: 'edge' },
    hostnames: ['shop.example.com'],
    rules: [
      {
        name: 'split',
        backends: [
          { name: 'v1', port: 80, weight: w1 },
          { name: 'v2', port: 80, weight: w2 },
        ],
      },
    ],
  },
});

/** what `kubectl wait --for=condition=Programmed` says: every data plane serves the compiled version */
const waitProgrammed = () =>
  kubectlOk(cluster, [
    'wait',
    '--for=condition=Programmed',
    'ingresspool/shop',
    '-n',
    'edge',
    '--timeout=30s',
  ]);

async function programmed(): Promise<any> {
  const pool = await getJson(cluster, ['ingresspool', 'shop', '-n', 'edge']);
  return {
    cond: (pool.status?.conditions ?? []).find((c: any) => c.type === 'Programmed'),
    version: pool.status?.configVersion,
  };
}

test('set-up: cluster, backends in a netns, operator with the config stream, pool', async () => {
  cluster = await startTestCluster();
  await installCrds(cluster);
  const addrs = nextTestAddresses();
  host = await createTestHost({ name: 'cfgs', ...addrs });
  for (const [name, port] of [
    ['v1', 8081],
    ['v2', 8082],
  ] as const) {
    const code = `require('http').createServer((q,s)=>s.end('${name}')).listen(${port}, '${host.address}')`;
    host.spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  }
  await waitFor('netns backends', async () => {
    try {
      const r = await request(`http://${host.address}:8082/`, { dispatcher: agent });
      return (await r.body.text()) === 'v2';
    } catch {
      return false;
    }
  });
  streamPort = await freePort();
  dpPort = await freePort();
  adminPort = await freePort();
  await applyDocs(cluster, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'edge' } },
    // where the operator keeps the config stream's TLS Secret (dist/install.yaml creates it)
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulkhead-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } },
  ]);
  const svc = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'team' },
    spec: { ports: [{ name: 'http', port: 80, targetPort: name === 'v1' ? 8081 : 8082 }] },
  });
  const slice = (name: string, port: number) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-a`, namespace: 'team', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [{ addresses: [host.address], conditions: { ready: true } }],
  });
  await applyDocs(cluster, [
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: 'shop', namespace: 'edge' },
      spec: { productLine: 'shop', replicas: 1, allowedRoutes: { namespaces: { from: 'All' } } },
    },
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: 'other', namespace: 'edge' },
      spec: { productLine: 'other', replicas: 1 },
    },
    svc('v1'),
    svc('v2'),
    slice('v1', 8081),
    slice('v2', 8082),
  ]);
  await startOp();
  assert.is(stream.port, streamPort);
});

test('the data plane starts from the bootstrap ConfigMap with the credential Secret, then follows the stream', async () => {
  const cm = await waitFor('bootstrap ConfigMap', () =>
    getJson(cluster, ['configmap', 'bulkhead-shop-bootstrap', '-n', 'edge']).catch(() => undefined),
  );
  const secret = await waitFor('credential Secret', () =>
    getJson(cluster, ['secret', 'bulkhead-shop-credential', '-n', 'edge']).catch(() => undefined),
  );
  writeFileSync(join(tmp, 'snapshot.json'), cm.data['snapshot.json']);
  writeFileSync(join(tmp, 'token'), Buffer.from(secret.data.token, 'base64'));
  // the operator's CA travels in the same Secret; the data plane finds it beside the token
  assert.ok(secret.data['ca.crt'], 'the credential Secret carries the config stream CA');
  writeFileSync(join(tmp, 'ca.crt'), Buffer.from(secret.data['ca.crt'], 'base64'));
  const tls = await getJson(cluster, ['secret', 'bulkhead-config-tls', '-n', 'bulkhead-system']);
  assert.is(tls.type, 'kubernetes.io/tls');
  assert.is(tls.data['ca.crt'], secret.data['ca.crt']);
  // the Deployment mounts exactly that Secret and points the pod at the stream
  const dep = await getJson(cluster, ['deployment', 'bulkhead-shop', '-n', 'edge']);
  const args: string[] = dep.spec.template.spec.containers[0].args;
  assert.ok(args.includes('--control-plane') && args.includes(`127.0.0.1:${streamPort}`), args.join(' '));
  dataplane = spawn(
    process.execPath,
    [
      'bin/bulkhead.mjs',
      'dataplane',
      '--snapshot',
      join(tmp, 'snapshot.json'),
      '--port',
      String(dpPort),
      '--admin-port',
      String(adminPort),
      '--host',
      '127.0.0.1',
      '--workers',
      '1',
      '--control-plane',
      `127.0.0.1:${streamPort}`,
      '--pool',
      'edge/shop',
      '--credential',
      join(tmp, 'token'),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitFor(
    'data plane admin',
    async () =>
      (await request(`http://127.0.0.1:${adminPort}/readyz`, { dispatcher: agent })).statusCode === 200,
  );
  const none = await get('/');
  assert.is(none.status, 404, 'no route yet');
});

test('kubectl apply of a RouteSplit reaches the backend; the pool becomes Programmed=True', async () => {
  await applyDocs(cluster, [route(50, 50)]);
  await waitFor('traffic through the route', async () => (await get('/')).status === 200);
  await waitProgrammed();
  const p = await programmed();
  assert.is(p.cond.status, 'True');
  assert.match(p.cond.message, /1\/1 data planes serve sha256:/);
});

test('changing the weights shifts traffic within ±5 % over 1,000 requests', async () => {
  await applyDocs(cluster, [route(80, 20)]);
  await waitFor('new version programmed', async () => {
    const p = await programmed();
    const cfg = JSON.parse(
      await (await request(`http://127.0.0.1:${adminPort}/config`, { dispatcher: agent })).body.text(),
    );
    return (
      p.cond?.status === 'True' &&
      cfg.version === p.version &&
      cfg.snapshot.routes[0].backends[0].weight === 80
    );
  });
  let v1 = 0;
  for (let i = 0; i < 1000; i++) if ((await get('/')).body === 'v1') v1++;
  assert.ok(v1 >= 750 && v1 <= 850, `v1 served ${v1}/1000, want 800 ± 50`);
});

test('deleting the route makes it 404 within 2 s', async () => {
  await kubectlOk(cluster, ['delete', 'routesplit', 'shop', '-n', 'team']);
  await waitFor('404 within 2 s of the delete', async () => (await get('/')).status === 404, 2000);
  await applyDocs(cluster, [route(80, 20)]);
  await waitFor('route back', async () => (await get('/')).status === 200);
  await waitProgrammed();
});

test('the operator dies: the data plane keeps serving; restarted: no re-swap, Programmed returns', async () => {
  const appliedBefore = await metric('bulkhead_snapshots_applied_total');
  await op!.stop();
  op = null;
  for (let i = 0; i < 50; i++) assert.is((await get('/')).status, 200);
  await startOp();
  await waitFor(
    'data plane reconnected',
    async () => (stream.server?.replicasOf('edge/shop').length ?? 0) === 1,
    20_000,
  );
  await waitFor(
    'Programmed=True from the new operator',
    async () => stream.server?.programmed('edge/shop').status === 'True',
    20_000,
  );
  await waitProgrammed();
  assert.is(
    await metric('bulkhead_snapshots_applied_total'),
    appliedBefore,
    'an identical snapshot was swapped again',
  );
  for (let i = 0; i < 20; i++) assert.is((await get('/')).status, 200);
});

test('a route the compiler refuses is refused alone; the pool stays Programmed and serving', async () => {
  // a JWT rule with two JWKS sources passes the schema but no data plane could serve it: the
  // compiler refuses this one route instead of shipping a snapshot every data plane would NACK
  const rejectedBefore = await metric('bulkhead_snapshots_rejected_total');
  const bad = route(80, 20);
  bad.metadata = { ...bad.metadata, name: 'shop-bad' } as typeof bad.metadata;
  bad.spec.hostnames = ['bad.example.com'];
  (bad.spec.rules[0] as any).auth = {
    jwt: {
      issuer: 'https://id.example.com',
      jwks: { uri: 'https://id.example.com/jwks.json', secretRef: { name: 'idp', key: 'jwks.json' } },
    },
  };
  await applyDocs(cluster, [bad]);
  const refused = await waitFor('RouteSplit shop-bad Accepted=False Invalid', async () => {
    const r = await getJson(cluster, ['routesplit', 'shop-bad', '-n', 'team']);
    const c = (r.status?.parents?.[0]?.conditions ?? []).find((x: any) => x.type === 'Accepted');
    return c?.status === 'False' && c.reason === 'Invalid' ? c : undefined;
  });
  assert.match(refused.message, /^spec\.rules\[0\]\.auth\.jwt\.jwks: set exactly one of uri and secretRef/);
  await waitProgrammed();
  assert.is((await programmed()).cond?.reason, 'Programmed');
  assert.is((await get('/')).status, 200, 'the rest of the pool keeps serving');
  assert.is(await metric('bulkhead_snapshots_rejected_total'), rejectedBefore, 'no data plane NACKed');
  await kubectlOk(cluster, ['delete', 'routesplit', 'shop-bad', '-n', 'team']);
});

test('a wrong credential is refused; one pool credential cannot open another pool', async () => {
  const shopSecret = await getJson(cluster, ['secret', 'bulkhead-shop-credential', '-n', 'edge']);
  const shopToken = Buffer.from(shopSecret.data.token, 'base64').toString();
  const ca = Buffer.from(shopSecret.data['ca.crt'], 'base64').toString();
  const tryStream = (pool: string, token: string) =>
    new Promise<string>((resolve) => {
      const c = new ConfigStreamClient({
        address: `127.0.0.1:${streamPort}`,
        pool,
        token,
        ca,
        replica: 'intruder',
        backoff: { baseMs: 5000, maxMs: 5000 },
        appliedVersion: () => null,
        apply: () => ({ ok: true }),
      });
      c.on('retrying', (_d: number, err: string) => (c.stop(), resolve(err)));
      c.on('applied', () => (c.stop(), resolve('applied')));
      c.start();
    });
  assert.match(await tryStream('edge/shop', 'wrong'), /^UNAUTHENTICATED/);
  assert.match(await tryStream('edge/other', shopToken), /^UNAUTHENTICATED/);
});

test('clean-up', async () => {
  dataplane?.kill('SIGTERM');
  await op?.stop();
  await agent.close();
  await host?.destroy();
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
