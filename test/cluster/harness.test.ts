// The real-API-server harness: starts etcd + kube-apiserver, talks to it with
// kubectl and client-node, checks the API server's own validation (loopback
// EndpointSlice addresses are refused), and that stop() leaves nothing behind.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DiscoveryV1Api } from '@kubernetes/client-node';
import { createClientConfig, ensureK8sTools, startTestCluster, type TestCluster } from './harness.ts';

const t = suite('test cluster');
let cluster: TestCluster | undefined;

t.before(async () => {
  cluster = await startTestCluster();
});

t.after(async () => {
  await cluster?.stop();
});

function c(): TestCluster {
  if (!cluster) throw new Error('cluster did not start');
  return cluster;
}

async function apply(obj: unknown) {
  return c().kubectl(['create', '-f', '-'], JSON.stringify(obj));
}

function slice(name: string, address: string) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'bh-e2e', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
  };
}

t('under CI a missing binary fails with the setup hint', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'bh-nocache-'));
  const saved = { cache: process.env.BULKHEAD_CACHE, ci: process.env.CI };
  process.env.BULKHEAD_CACHE = empty;
  process.env.CI = 'true';
  try {
    await ensureK8sTools();
    assert.unreachable('found tools in an empty cache');
  } catch (err) {
    assert.match(String(err), /scripts\/setup-k8s-tools\.sh/);
  } finally {
    if (saved.cache === undefined) delete process.env.BULKHEAD_CACHE;
    else process.env.BULKHEAD_CACHE = saved.cache;
    if (saved.ci === undefined) delete process.env.CI;
    else process.env.CI = saved.ci;
    await rm(empty, { recursive: true, force: true });
  }
});

t('a start that times out reports the log tail and leaves nothing behind', async () => {
  const before = await bhTmpDirs();
  try {
    await startTestCluster({ readyTimeoutMs: 1 });
    assert.unreachable('started within 1 ms');
  } catch (err) {
    assert.match(String(err), /kube-apiserver not ready after 1 ms; last log lines:/);
  }
  assert.equal(await bhTmpDirs(), before);
  assert.equal(await strayServers(), [], 'no etcd or kube-apiserver left running');
});

t('the API server is ready and kubectl reaches it', async () => {
  const r = await c().kubectl(['get', '--raw', '/readyz']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout.trim(), 'ok');
  assert.match(c().server, /^https:\/\/127\.0\.0\.1:\d+$/);
});

t('namespace, Service and an EndpointSlice on a 198.18 address are accepted', async () => {
  let r = await c().kubectl(['create', 'namespace', 'bh-e2e']);
  assert.is(r.code, 0, r.stderr);
  r = await apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'bh-e2e' },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  assert.is(r.code, 0, r.stderr);
  r = await apply(slice('web-a', '198.18.0.10'));
  assert.is(r.code, 0, r.stderr);

  // Read back through client-node to prove createClientConfig works.
  const api = createClientConfig(c()).makeApiClient(DiscoveryV1Api);
  const list = await api.listNamespacedEndpointSlice({
    namespace: 'bh-e2e',
    labelSelector: 'kubernetes.io/service-name=web',
  });
  assert.equal(
    list.items.map((s) => s.endpoints[0]?.addresses),
    [['198.18.0.10']],
  );
});

t('an EndpointSlice with a loopback address is rejected', async () => {
  const r = await apply(slice('web-loop', '127.0.0.1'));
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /loopback/i);
  const get = await c().kubectl(['-n', 'bh-e2e', 'get', 'endpointslice', 'web-loop']);
  assert.is.not(get.code, 0);
});

t('RBAC objects can be created', async () => {
  const r = await apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'bulkhead-e2e-reader' },
    rules: [
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ],
  });
  assert.is(r.code, 0, r.stderr);
  const get = await c().kubectl([
    'get',
    'clusterrole',
    'bulkhead-e2e-reader',
    '-o',
    'jsonpath={.rules[0].verbs}',
  ]);
  assert.is(get.code, 0, get.stderr);
  assert.match(get.stdout, /watch/);
});

t('stop() ends both processes and removes the temp dir', async () => {
  const { pids, tmpDir } = c();
  await c().stop();
  for (const [what, pid] of Object.entries(pids)) {
    assert.not.ok(isAlive(pid), `${what} (pid ${pid}) still running`);
  }
  assert.not.ok(existsSync(tmpDir), 'temp dir removed');
  cluster = undefined;
});

async function bhTmpDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('bh-k8s-')).sort();
}

/** etcd/kube-apiserver children of this process other than the suite's own cluster. */
function strayServers(): Promise<string[]> {
  const ours = new Set(Object.values(c().pids));
  return new Promise((done) => {
    execFile('ps', ['--ppid', String(process.pid), '-o', 'pid=,comm='], (_err, stdout) =>
      done(
        stdout
          .split('\n')
          .map((l) => l.trim().split(/\s+/))
          .filter(([pid, comm]) => !ours.has(Number(pid)) && (comm === 'etcd' || comm === 'kube-apiserver'))
          .map(([pid, comm]) => `${comm} ${pid}`),
      ),
    );
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.run();
