// Two (then three) operator instances on one Lease against a real API server: only the leader
// writes; a leader that dies takes no lease with it (the standby takes over once the lease runs
// out); a leader that stops cleanly hands over at once. The first instance starts before the CRDs
// exist, so its informers fail, back off and recover without crashing anything.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startOperator, type OperatorHandle, type OperatorOptions } from '../../src/operator/index.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import {
  applyDocs,
  endpointSlicesFor,
  exampleDocs,
  getJson,
  installCrds,
  kubectlOk,
  silentLogger,
  waitFor,
} from './cluster-fixtures.ts';

const LEASE_SECONDS = 3;
let cluster: TestCluster;
const running: OperatorHandle[] = [];

const instance = async (identity: string, extra: Partial<OperatorOptions> = {}) => {
  const h = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    leaderElect: true,
    leaseNamespace: 'default',
    leaseDurationSeconds: LEASE_SECONDS,
    renewDeadlineSeconds: 2,
    retryPeriodSeconds: 0.5,
    identity,
    metricsAddr: false,
    logger: silentLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 300,
    ...extra,
  });
  running.push(h);
  return h;
};
const holder = async () =>
  (await getJson(cluster, ['lease', 'bulkhead-operator', '-n', 'default'])).spec.holderIdentity;
const writes = async (h: OperatorHandle) =>
  (await h.metrics.total(h.metrics.applies)) +
  (await h.metrics.total(h.metrics.statusWrites)) +
  (await h.metrics.total(h.metrics.prunes));
const setWeight = (w: number) =>
  kubectlOk(cluster, [
    'patch',
    'routesplit',
    'shop',
    '-n',
    'storefront',
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/rules/1/backends/0/weight', value: w }]),
  ]);
const weightInSnapshot = async (w: number) => {
  const cm = await getJson(cluster, ['configmap', 'bulkhead-storefront-bootstrap', '-n', 'edge-storefront']);
  return cm.data['snapshot.json'].includes(`"weight":${w}`);
};

let a: OperatorHandle;
let b: OperatorHandle;

test.before(async () => {
  cluster = await startTestCluster();
});

test.after(async () => {
  for (const h of running) await h.stop();
  await cluster?.stop();
});

test('an instance started before the CRDs exist retries its informers and syncs once they do', async () => {
  const starting = instance('op-a');
  await new Promise((r) => setTimeout(r, 500)); // let the first lists fail (404: no such resource)
  await installCrds(cluster);
  const docs = exampleDocs(['00-namespaces.yaml', 'storefront.yaml']);
  await applyDocs(cluster, docs);
  await applyDocs(cluster, endpointSlicesFor(docs.filter((d) => d.kind === 'Service')));
  a = await starting;
  const informerErrors = (await a.metrics.reconcileErrors.get()).values.find(
    (v) => v.labels.kind === 'informer',
  );
  assert.ok(informerErrors && informerErrors.value > 0, 'the failed lists were counted');
  await waitFor('op-a to lead', async () => a.isLeader());
  await waitFor(
    'the storefront Deployment',
    async () =>
      (await cluster.kubectl(['get', 'deployment', 'bulkhead-storefront', '-n', 'edge-storefront'])).code ===
      0,
  );
  assert.is(await holder(), 'op-a');
});

test('only the leader writes; the standby sends no write request at all', async () => {
  b = await instance('op-b');
  await a.whenIdle();
  await setWeight(70);
  await waitFor('the leader to apply the edit', () => weightInSnapshot(70));
  await a.whenIdle();
  assert.ok((await writes(a)) > 0);
  assert.is(await writes(b), 0);
  assert.is(b.rest.writeCount(), 0, 'not even a lease update');
  assert.not.ok(b.isLeader());
  assert.is((await b.metrics.leader.get()).values[0]?.value, 0);
  assert.is((await a.metrics.leader.get()).values[0]?.value, 1);
  assert.is(await holder(), 'op-a');
});

test('a leader that dies without releasing is replaced once its lease runs out', async () => {
  const t0 = Date.now();
  await a.stop({ releaseLease: false }); // as if the process had been killed
  assert.is(await holder(), 'op-a', 'the lease still names the dead leader');
  await waitFor('op-b to take over', async () => b.isLeader(), 4 * LEASE_SECONDS * 1000);
  const takeoverMs = Date.now() - t0;
  // one lease duration, plus the retry periods on either side of the last observed renewal
  assert.ok(takeoverMs <= LEASE_SECONDS * 1000 + 2000, `took over after ${takeoverMs} ms`);
  assert.is(await holder(), 'op-b');
  await setWeight(60);
  await waitFor('the new leader to apply an edit', () => weightInSnapshot(60));
  assert.ok((await writes(b)) > 0);
});

test('a leader that stops cleanly releases the lease and a standby takes over at once', async () => {
  const c = await instance('op-c');
  await waitFor('op-c to be a standby', async () => !c.isLeader() && (await holder()) === 'op-b');
  const t0 = Date.now();
  await b.stop();
  await waitFor('op-c to take over', async () => c.isLeader(), 4 * LEASE_SECONDS * 1000);
  assert.ok(Date.now() - t0 < LEASE_SECONDS * 1000, 'faster than waiting for the lease to expire');
  assert.is(await holder(), 'op-c');
  await setWeight(50);
  await waitFor('op-c to apply an edit', () => weightInSnapshot(50));
  assert.ok((await writes(c)) > 0);
});

test('`bulkhead operator --leader-elect` leads, serves /readyz, and releases its lease on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./operator-cli-child.ts', import.meta.url)),
      'operator',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--leader-elect',
      '--lease-namespace',
      'kube-system',
      '--namespace',
      'edge-storefront,storefront',
      '--metrics-addr',
      '127.0.0.1:0',
    ],
    { env: { ...process.env, POD_NAME: 'op-cli' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    await waitFor('the CLI operator to hold its lease', async () => {
      const r = await cluster.kubectl([
        'get',
        'lease',
        'bulkhead-operator',
        '-n',
        'kube-system',
        '-o',
        'json',
      ]);
      return r.code === 0 && JSON.parse(r.stdout).spec.holderIdentity === 'op-cli';
    });
    assert.match(stderr, /"msg":"became leader"/);
    child.kill('SIGTERM');
    assert.is(await exited, 0, stderr);
    const lease = await getJson(cluster, ['lease', 'bulkhead-operator', '-n', 'kube-system']);
    assert.is(lease.spec.holderIdentity, '', 'released for a fast takeover');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
