// Manual measurement, not part of the suite (no `.test.ts`): N pools × R routes against a real
// kube-apiserver. Prints start-up convergence (requests by verb), a forced resync of the unchanged
// world (write requests counted by the client and by the API server), and an EndpointSlice storm
// (100 updates of one slice) → reconcile passes and applies.
//
//   N=50 R=10 node --import tsx test/operator/scale-probe.ts

import { RESOURCES } from '../../src/operator/api-resources.ts';
import { startOperator } from '../../src/operator/index.ts';
import { startTestCluster } from '../cluster/harness.ts';
import {
  apiserverWrites,
  applyDocs,
  getJson,
  installCrds,
  silentLogger,
  waitFor,
} from './cluster-fixtures.ts';

const N = Number(process.env.N ?? 50);
const R = Number(process.env.R ?? 10);
const cluster = await startTestCluster();
try {
  await installCrds(cluster);
  const docs: any[] = [];
  for (let i = 0; i < N; i++) {
    const ns = `pl-${i}`;
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    docs.push({
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: `p${i}`, namespace: ns },
      spec: { productLine: `pl${i}`, replicas: 2, service: { type: 'ClusterIP' } },
    });
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: ns },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    docs.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [`198.18.${i % 250}.${1 + Math.floor(i / 250)}`] }],
      ports: [{ name: 'http', port: 80 }],
    });
    for (let j = 0; j < R; j++) {
      docs.push({
        apiVersion: 'bulkhead.dev/v1alpha1',
        kind: 'RouteSplit',
        metadata: { name: `r${j}`, namespace: ns },
        spec: {
          poolRef: { name: `p${i}` },
          hostnames: [`h${j}.pl${i}.example.com`],
          rules: [{ name: 'all', backends: [{ name: 'web', port: 80 }] }],
        },
      });
    }
  }
  await applyDocs(cluster, docs);
  const t0 = Date.now();
  const op = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    metricsAddr: false,
    logger: silentLogger(),
  });
  const cacheSyncMs = Date.now() - t0;
  await waitFor(
    'every pool converged',
    async () => {
      const l = await getJson(cluster, ['ingresspools', '-A']);
      return l.items.every(
        (p: any) => p.status?.conditions?.find((c: any) => c.type === 'Ready')?.reason === 'ReplicasNotReady',
      );
    },
    600_000,
  );
  await op.whenIdle(120_000);
  const passes = async () =>
    (await op.metrics.reconcileDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ??
    0;
  console.log(
    JSON.stringify({
      N,
      R,
      objects: docs.length,
      cacheSyncMs,
      convergedMs: Date.now() - t0,
      requests: Object.fromEntries(op.rest.counts),
      passes: await passes(),
    }),
  );

  const w0 = await apiserverWrites(cluster);
  const c0 = op.rest.writeCount();
  const t1 = Date.now();
  await op.resync(120_000);
  console.log(
    JSON.stringify({
      resyncMs: Date.now() - t1,
      clientWrites: op.rest.writeCount() - c0,
      serverWrites: (await apiserverWrites(cluster)) - w0,
    }),
  );

  const p0 = await passes();
  const a0 = await op.metrics.total(op.metrics.applies);
  const t2 = Date.now();
  for (let k = 0; k < 100; k++) {
    const eps: any = await op.rest.get(RESOURCES.EndpointSlice, 'pl-0', 'web-1');
    eps.endpoints = [{ addresses: [`198.18.251.${(k % 250) + 1}`] }];
    await op.rest.update(RESOURCES.EndpointSlice, eps);
  }
  const stormMs = Date.now() - t2;
  await new Promise((r) => setTimeout(r, 1500));
  await op.whenIdle();
  console.log(
    JSON.stringify({
      stormUpdates: 100,
      stormMs,
      passes: (await passes()) - p0,
      applies: (await op.metrics.total(op.metrics.applies)) - a0,
    }),
  );
  await op.stop();
} finally {
  await cluster.stop();
}
