// Secrets reach only their pool's pods, against a real kube-apiserver: a route's JWKS Secret in the
// team namespace is copied into the pool's namespace (owned by the pool, mounted by its Deployment at
// <dir>/<ns>/<name>), another pool gets neither copy nor mount, and the copy goes when the route stops
// naming it. The pool's own certificate Secret is mounted as is, never copied.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startOperator, type OperatorHandle } from '../../src/operator/index.ts';
import { mirroredSecretName } from '../../src/synth/secret-volumes.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { applyDocs, getJson, installCrds, kubectlOk, silentLogger, waitFor } from './cluster-fixtures.ts';

let cluster: TestCluster;
let op: OperatorHandle;
const API = 'bulkhead.dev/v1alpha1';
const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const pool = (name: string, tls: boolean) => ({
  apiVersion: API,
  kind: 'IngressPool',
  metadata: { name, namespace: 'edge' },
  spec: {
    productLine: name,
    allowedRoutes: { namespaces: { from: 'All' } },
    ...(tls
      ? { listener: { tls: { port: 8443, certificates: [{ secretRef: { name: `${name}-tls` } }] } } }
      : {}),
  },
});
const route = (auth: boolean) => ({
  apiVersion: API,
  kind: 'RouteSplit',
  metadata: { name: 'shop', namespace: 'team-a' },
  spec: {
    poolRef: { name: 'secure', namespace: 'edge' },
    rules: [
      {
        backends: [{ name: 'web', port: 80 }],
        ...(auth
          ? {
              auth: {
                jwt: {
                  issuer: 'https://id.example.com',
                  jwks: { secretRef: { name: 'idp-keys', key: 'jwks.json' } },
                },
              },
            }
          : {}),
      },
    ],
  },
});
const copyName = mirroredSecretName('secure', { namespace: 'team-a', name: 'idp-keys' });
const secretNames = async (pool: string) => {
  const d = await getJson(cluster, ['deployment', `bulkhead-${pool}`, '-n', 'edge']);
  return (d.spec.template.spec.volumes ?? [])
    .filter((v: any) => v.secret)
    .map((v: any) => v.secret.secretName);
};

test.before(async () => {
  cluster = await startTestCluster();
  await installCrds(cluster);
  await applyDocs(cluster, [ns('edge'), ns('team-a')]);
  await applyDocs(cluster, [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'idp-keys', namespace: 'team-a' },
      stringData: { 'jwks.json': '{"keys":[]}' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'team-a' },
      spec: { ports: [{ port: 80 }] },
    },
    pool('secure', true),
    pool('other', false),
    route(true),
  ]);
  op = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    metricsAddr: false,
    logger: silentLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 300,
  });
});

test.after(async () => {
  await op?.stop();
  await cluster?.stop();
});

test("a route's Secret is copied into its pool's namespace, owned by the pool, and mounted there only", async () => {
  const copy = await waitFor('the copy of team-a/idp-keys', async () => {
    const r = await cluster.kubectl(['get', 'secret', copyName, '-n', 'edge', '-o', 'json']);
    return r.code === 0 ? JSON.parse(r.stdout) : undefined;
  });
  assert.is(Buffer.from(copy.data['jwks.json'], 'base64').toString(), '{"keys":[]}');
  assert.is(copy.metadata.ownerReferences?.[0]?.kind, 'IngressPool');
  assert.is(copy.metadata.ownerReferences?.[0]?.name, 'secure');
  assert.is(copy.metadata.annotations['bulkhead.dev/secret-source'], 'team-a/idp-keys');
  const mounted = await waitFor('the Deployment mounting both Secrets', async () => {
    const names = await secretNames('secure').catch(() => []);
    return names.length === 2 ? names : undefined;
  });
  assert.equal([...mounted].sort(), [copyName, 'secure-tls'].sort());
  const d = await getJson(cluster, ['deployment', 'bulkhead-secure', '-n', 'edge']);
  assert.ok(d.spec.template.spec.containers[0].args.includes('--secrets'));
  await waitFor('the other pool', async () => (await secretNames('other').catch(() => null)) !== null);
  assert.equal(await secretNames('other'), [], 'another pool mounts none of them');
  const r = await cluster.kubectl(['get', 'secret', 'secure-tls', '-n', 'edge']);
  assert.is(r.code, 1, 'the pool-namespace Secret is mounted as is (the operator never creates it)');
});

test('the copy is deleted once no route of the pool names the Secret', async () => {
  await applyDocs(cluster, [route(false)]);
  await waitFor('the copy to go', async () => {
    const r = await cluster.kubectl(['get', 'secret', copyName, '-n', 'edge']);
    return r.code !== 0;
  });
  await kubectlOk(cluster, ['get', 'secret', 'idp-keys', '-n', 'team-a']);
});

test.run();
