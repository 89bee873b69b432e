// The operator against a real kube-apiserver + etcd (one cluster for this whole file): the
// examples become synthesized workloads and statuses; edits touch only their pool; a resync of
// an unchanged world writes nothing; rejected routes do not hurt their pool; manual edits and
// deletes are repaired; a deleted pool's objects are pruned.

import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { bagFromDocuments, compile } from '../../src/compiler/index.ts';
import { synthesize } from '../../src/synth/index.ts';
import { startOperator, type OperatorContext, type OperatorHandle } from '../../src/operator/index.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import {
  apiserverWrites,
  applyDocs,
  endpointSlicesFor,
  exampleDocs,
  getJson,
  installCrds,
  kubectlOk,
  resourceVersions,
  silentLogger,
  subsetDiff,
  waitFor,
} from './cluster-fixtures.ts';

let cluster: TestCluster;
let op: OperatorHandle;
const POOLS = ['edge-storefront/storefront', 'edge-payments/payments', 'edge-realtime/realtime'];
/** the operator's log, as JSON records */
const logged: any[] = [];
const capturingLogger = () =>
  pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

/** events.k8s.io/v1 Events about one object, once at least one with `reason` exists */
const eventsAbout = (ns: string, kind: string, name: string, reason: string) =>
  waitFor(`a ${reason} Event on ${kind} ${ns}/${name}`, async () => {
    const list = await getJson(cluster, ['events.events.k8s.io', '-n', ns]);
    const mine = list.items.filter((e: any) => e.regarding?.kind === kind && e.regarding?.name === name);
    return mine.some((e: any) => e.reason === reason) ? mine : false;
  });

const pool = (key: string) => {
  const [ns, name] = key.split('/');
  return getJson(cluster, ['ingresspool', name, '-n', ns]);
};
const condition = (obj: any, type: string) =>
  (obj.status?.conditions ?? obj.conditions ?? []).find((c: any) => c.type === type);
const snapshotOf = async (ns: string, name: string) => {
  const cm = await getJson(cluster, ['configmap', `bulkhead-${name}-bootstrap`, '-n', ns]);
  return JSON.parse(cm.data['snapshot.json']);
};

test.before(async () => {
  cluster = await startTestCluster();
  await installCrds(cluster);
  const docs = exampleDocs();
  await applyDocs(cluster, docs);
  await applyDocs(cluster, endpointSlicesFor(docs.filter((d) => d.kind === 'Service')));
  op = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    metricsAddr: '127.0.0.1:0',
    logger: capturingLogger(),
    holdOffMs: 50,
    maxHoldOffMs: 300,
  });
  await waitFor('every pool to report its config version', async () => {
    for (const key of POOLS) if (!(await pool(key)).status?.configVersion) return false;
    return true;
  });
  await op.whenIdle();
});

test.after(async () => {
  await op?.stop();
  await cluster?.stop();
});

test('every example pool gets the synthesized workloads, with owner references and the applied hash', async () => {
  // An independent compile of what the API server holds, synthesized here for comparison.
  const world = await getJson(cluster, [
    'ingresspools,routesplits,ratelimitpolicies,services,endpointslices,namespaces',
    '-A',
  ]);
  const result = compile(bagFromDocuments(world.items));
  const live = await getJson(cluster, [
    'serviceaccounts,configmaps,services,deployments,daemonsets,horizontalpodautoscalers,poddisruptionbudgets',
    '-A',
    '-l',
    'app.kubernetes.io/managed-by=bulkhead',
  ]);
  const kinds: Record<string, string[]> = {};
  for (const key of POOLS) {
    const cr = await pool(key);
    const expected = synthesize(result.infra[key]!);
    kinds[key] = expected.map((o) => o.kind).sort();
    for (const want of expected) {
      const got = live.items.find(
        (o: any) =>
          o.kind === want.kind &&
          o.metadata.namespace === want.metadata.namespace &&
          o.metadata.name === want.metadata.name,
      );
      assert.ok(got, `${want.kind} ${want.metadata.namespace}/${want.metadata.name} exists`);
      for (const field of ['spec', 'data']) {
        if (want[field] === undefined) continue;
        const diff = subsetDiff(want[field], got[field], `${want.kind}/${want.metadata.name}.${field}`);
        assert.is(diff, undefined);
      }
      assert.is(subsetDiff(want.metadata.labels, got.metadata.labels), undefined, 'labels');
      assert.equal(got.metadata.ownerReferences, [
        {
          apiVersion: 'bulkhead.dev/v1alpha1',
          kind: 'IngressPool',
          name: cr.metadata.name,
          uid: cr.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.match(got.metadata.annotations['bulkhead.dev/applied-hash'], /^[0-9a-f]{32}$/);
    }
  }
  assert.equal(kinds['edge-storefront/storefront'], [
    'ConfigMap',
    'Deployment',
    'HorizontalPodAutoscaler',
    'PodDisruptionBudget',
    'Service',
    'Service',
    'ServiceAccount',
  ]);
  assert.equal(kinds['edge-payments/payments'], [
    'ConfigMap',
    'Deployment',
    'PodDisruptionBudget',
    'Service',
    'Service',
    'ServiceAccount',
  ]);
  assert.equal(kinds['edge-realtime/realtime'], [
    'ConfigMap',
    'DaemonSet',
    'Service',
    'Service',
    'ServiceAccount',
  ]);
  const payments = live.items.find(
    (o: any) => o.kind === 'Deployment' && o.metadata.name === 'bulkhead-payments',
  );
  assert.is(payments.spec.replicas, 3);
  const snapshot = await snapshotOf('edge-storefront', 'storefront');
  assert.is(snapshot.version, result.snapshots['edge-storefront/storefront']!.version);
});

test('statuses: pool, route and policy conditions; kubectl wait; printer columns', async () => {
  for (const key of POOLS) {
    const p = await pool(key);
    const svc = await getJson(cluster, [
      'service',
      `bulkhead-${p.metadata.name}`,
      '-n',
      p.metadata.namespace,
    ]);
    assert.is(p.status.observedGeneration, p.metadata.generation);
    assert.is(condition(p, 'Accepted').status, 'True');
    assert.is(condition(p, 'Programmed').status, 'False');
    assert.is(condition(p, 'Programmed').reason, 'Pending');
    assert.is(
      condition(p, 'Programmed').message,
      `waiting for data planes to acknowledge ${p.status.configVersion}`,
    );
    assert.is(condition(p, 'Ready').status, 'False'); // no kubelets here
    assert.match(condition(p, 'Ready').message, /^0\/\d+ replicas ready$/);
    assert.match(p.status.configVersion, /^sha256:[0-9a-f]{64}$/);
    assert.is(p.status.attachedRoutes, 1);
    assert.is(p.status.readyReplicas, 0);
    assert.equal(p.status.addresses, [{ type: 'IPAddress', value: svc.spec.clusterIP }]);
    for (const c of p.status.conditions)
      assert.match(c.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
  const routes = await getJson(cluster, ['routesplits', '-A']);
  assert.is(routes.items.length, 3);
  for (const r of routes.items) {
    // top-level conditions, aggregated over parents (what kubectl wait reads)
    assert.is(condition(r, 'Accepted').status, 'True', `${r.metadata.name} top-level Accepted`);
    assert.is(condition(r, 'Accepted').observedGeneration, r.metadata.generation);
    assert.is(condition(r, 'ResolvedRefs').status, 'True', `${r.metadata.name} top-level ResolvedRefs`);
    assert.is(r.status.parents.length, 1);
    assert.is(condition(r.status.parents[0], 'Accepted').status, 'True', `${r.metadata.name} Accepted`);
    assert.is(
      condition(r.status.parents[0], 'ResolvedRefs').status,
      'True',
      `${r.metadata.name} ResolvedRefs`,
    );
  }
  const policies = await getJson(cluster, ['ratelimitpolicies', '-A']);
  assert.is(policies.items.length, 3);
  for (const p of policies.items)
    assert.is(condition(p, 'Accepted').status, 'True', `${p.metadata.name} Accepted`);

  const wait = await cluster.kubectl([
    'wait',
    '--for=condition=Accepted',
    'ingresspool/storefront',
    '-n',
    'edge-storefront',
    '--timeout=30s',
  ]);
  assert.is(wait.code, 0, wait.stderr);
  const waitRoute = await cluster.kubectl([
    'wait',
    '--for=condition=Accepted',
    'routesplit/shop',
    '-n',
    'storefront',
    '--timeout=30s',
  ]);
  assert.is(waitRoute.code, 0, waitRoute.stderr);

  const table = await kubectlOk(cluster, ['get', 'ingresspools,routesplits,ratelimitpolicies', '-A']);
  assert.match(table, /PRODUCT LINE\s+READY\s+PROGRAMMED\s+ADDRESS/);
  assert.match(
    table,
    /edge-storefront\s+ingresspool\.bulkhead\.dev\/storefront\s+storefront\s+0\s+False\s+198\.19\.\d+\.\d+/,
  );
  assert.match(table, /POOL\s+HOSTNAMES\s+ACCEPTED/);
  assert.match(
    table,
    /storefront\s+routesplit\.bulkhead\.dev\/shop\s+storefront\s+\["shop\.example\.com","\*\.shop\.example\.com"\]\s+True/,
  );
  assert.match(
    table,
    /edge-payments\s+ratelimitpolicy\.bulkhead\.dev\/partner-quota\s+IngressPool\s+payments\s+Global\s+True/,
  );
});

test('a forced resync with nothing changed makes zero write requests', async () => {
  const rvBefore = await resourceVersions(cluster);
  const serverWritesBefore = await apiserverWrites(cluster);
  const clientWritesBefore = op.rest.writeCount();
  const skippedBefore = await op.metrics.total(op.metrics.appliesSkipped);
  await op.resync();
  await op.resync();
  assert.is(op.rest.writeCount(), clientWritesBefore, 'requests the operator sent');
  assert.is(await apiserverWrites(cluster), serverWritesBefore, 'write requests the API server counted');
  assert.equal(await resourceVersions(cluster), rvBefore);
  // and the resyncs did look at every object: 7 + 6 + 5 synthesized objects, twice
  assert.is((await op.metrics.total(op.metrics.appliesSkipped)) - skippedBefore, 36);
});

test('editing a RouteSplit changes only its own pool, and only the snapshot there', async () => {
  const before = await resourceVersions(cluster);
  const oldVersion = (await pool('edge-storefront/storefront')).status.configVersion;
  await kubectlOk(cluster, [
    'patch',
    'routesplit',
    'shop',
    '-n',
    'storefront',
    '--type=json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/rules/1/backends/0/weight', value: 80 }]),
  ]);
  await waitFor('the storefront pool to get a new config version', async () => {
    const p = await pool('edge-storefront/storefront');
    return (
      p.status.configVersion !== oldVersion &&
      condition(p, 'Programmed').message.includes(p.status.configVersion)
    );
  });
  await op.whenIdle();
  const snapshot = await snapshotOf('edge-storefront', 'storefront');
  const api = snapshot.routes.find((r: any) => r.rule === 'api');
  assert.ok(JSON.stringify(api).includes('"weight":80'), 'the new weight is in the bootstrap snapshot');
  const after = await resourceVersions(cluster);
  const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
  assert.equal(changed, [
    'ConfigMap/edge-storefront/bulkhead-storefront-bootstrap',
    'IngressPool/edge-storefront/storefront', // status: configVersion
    'RouteSplit/storefront/shop', // the edit itself
  ]);
});

test('a route claiming a pool it may not claim is rejected alone; the pool serves on', async () => {
  await applyDocs(cluster, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'intruder' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'intruder' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'RouteSplit',
      metadata: { name: 'grab', namespace: 'intruder' },
      spec: {
        poolRef: { name: 'storefront', namespace: 'edge-storefront' },
        hostnames: ['intruder.example.com'],
        rules: [{ name: 'all', backends: [{ name: 'web', port: 80 }] }],
      },
    },
  ]);
  const route = await waitFor('the intruding route to get a verdict', async () => {
    const r = await getJson(cluster, ['routesplit', 'grab', '-n', 'intruder']);
    return r.status?.parents?.length ? r : false;
  });
  const accepted = condition(route.status.parents[0], 'Accepted');
  assert.is(accepted.status, 'False');
  assert.is(accepted.reason, 'NotAllowedByPool');
  const top = condition(route, 'Accepted');
  assert.equal([top.status, top.reason], ['False', 'NotAllowedByPool']);
  assert.match(top.message, /edge-storefront\/storefront/);
  // the refusal is an Event on the route and a log line
  const events = await eventsAbout('intruder', 'RouteSplit', 'grab', 'NotAllowedByPool');
  const ev = events.find((e: any) => e.reason === 'NotAllowedByPool');
  assert.is(ev.type, 'Warning');
  assert.is(ev.action, 'Accept');
  assert.is(ev.reportingController, 'bulkhead.dev/operator');
  assert.is(ev.note, top.message);
  assert.ok(
    logged.some(
      (l) =>
        l.msg === 'status transition' &&
        l.object === 'intruder/grab' &&
        l.condition === 'Accepted' &&
        l.reason === 'NotAllowedByPool',
    ),
  );
  assert.equal(route.status.parents[0].poolRef, { name: 'storefront', namespace: 'edge-storefront' });
  await op.whenIdle();
  const p = await pool('edge-storefront/storefront');
  assert.is(condition(p, 'Accepted').status, 'True');
  assert.is(p.status.attachedRoutes, 1);
  const snapshot = await snapshotOf('edge-storefront', 'storefront');
  const owners = new Set(snapshot.routes.map((r: any) => `${r.route.namespace}/${r.route.name}`));
  assert.equal([...owners], ['storefront/shop']);
  assert.is(snapshot.routes.length, 3);
});

test("setProgrammed (the config stream's hook) sets Programmed for the current config version", async () => {
  const before = await pool('edge-realtime/realtime');
  op.setProgrammed('edge-realtime/realtime', {
    version: before.status.configVersion,
    status: 'True',
    reason: 'Programmed',
    message: `every ready replica acknowledged ${before.status.configVersion}`,
  });
  const after = await waitFor('Programmed=True', async () => {
    const p = await pool('edge-realtime/realtime');
    return condition(p, 'Programmed').status === 'True' ? p : false;
  });
  assert.is(condition(after, 'Programmed').reason, 'Programmed');
  assert.is(
    condition(after, 'Accepted').lastTransitionTime,
    condition(before, 'Accepted').lastTransitionTime,
  );
  const table = await kubectlOk(cluster, ['get', 'ingresspool', 'realtime', '-n', 'edge-realtime']);
  assert.match(table, /realtime\s+realtime\s+0\s+True/);
  const events = await eventsAbout('edge-realtime', 'IngressPool', 'realtime', 'Programmed');
  const programmed = events.find((e: any) => e.reason === 'Programmed');
  assert.is(programmed.type, 'Normal');
  assert.is(programmed.regarding.uid, after.metadata.uid);
  assert.ok(events.some((e: any) => e.reason === 'Accepted' && e.type === 'Normal'));
});

test('one log line per pool reconcile: pool, version, objects applied / unchanged / pruned, took, result', async () => {
  const lines = logged.filter((l) => l.msg === 'pool reconciled');
  for (const key of POOLS) {
    const mine = lines.filter((l) => l.pool === key);
    assert.ok(mine.length >= 1, key);
    const first = mine[0];
    assert.is(first.result, 'ok');
    assert.match(first.version, /^sha256:[0-9a-f]{64}$/);
    assert.ok(first.applied > 0, 'the first pass applied the workloads');
    assert.is(typeof first.unchanged, 'number');
    assert.is(typeof first.pruned, 'number');
    assert.is(typeof first.tookMs, 'number');
  }
});

test('kubectl explain answers for every IngressPool spec field', async () => {
  const out = await kubectlOk(cluster, ['explain', 'ingresspool.spec', '--recursive=false']);
  assert.match(out, /FIELDS:/);
  assert.not.match(out, /<no description>/);
  const deep = await kubectlOk(cluster, ['explain', 'ingresspool.spec.deployment.resources.limits']);
  assert.not.match(deep, /<no description>/);
});

test('manual deletes and edits of owned objects are repaired', async () => {
  const cm = await getJson(cluster, ['configmap', 'bulkhead-realtime-bootstrap', '-n', 'edge-realtime']);
  await kubectlOk(cluster, ['delete', 'configmap', 'bulkhead-realtime-bootstrap', '-n', 'edge-realtime']);
  const back = await waitFor('the bootstrap ConfigMap to come back', async () => {
    const r = await cluster.kubectl([
      'get',
      'configmap',
      'bulkhead-realtime-bootstrap',
      '-n',
      'edge-realtime',
      '-o',
      'json',
    ]);
    return r.code === 0 ? JSON.parse(r.stdout) : false;
  });
  assert.is.not(back.metadata.uid, cm.metadata.uid);
  assert.equal(back.data, cm.data);

  await kubectlOk(cluster, [
    'scale',
    'deployment',
    'bulkhead-payments',
    '-n',
    'edge-payments',
    '--replicas=7',
  ]);
  await waitFor('the payments Deployment to be scaled back to 3', async () => {
    const d = await getJson(cluster, ['deployment', 'bulkhead-payments', '-n', 'edge-payments']);
    return d.spec.replicas === 3;
  });
});

test('a namespace-scoped instance sees only its namespaces, and a converged world costs it no write', async () => {
  const events: string[] = [];
  let context: OperatorContext | undefined;
  const scoped = await startOperator({
    kubeconfig: cluster.kubeconfigPath,
    namespaces: ['edge-realtime', 'realtime'],
    metricsAddr: false,
    logger: silentLogger(),
    extraServers: [
      {
        start: async (ctx) => {
          context = ctx;
          ctx.onCompiled(() => events.push('compiled'));
          events.push('start');
        },
        stop: async () => void events.push('stop'),
      },
    ],
  });
  try {
    await scoped.whenIdle();
    const bag = scoped.bag();
    assert.equal(
      bag.ingressPools.map((p) => p.metadata.name),
      ['realtime'],
    );
    assert.equal(
      bag.routeSplits.map((r) => r.metadata.namespace),
      ['realtime'],
    );
    assert.ok(bag.services.every((s) => ['edge-realtime', 'realtime'].includes(s.metadata.namespace!)));
    assert.ok(
      bag.namespaces.length >= 7,
      'namespaces are always watched cluster-wide (allowedRoutes selectors)',
    );
    assert.equal(Object.keys(scoped.lastResult()!.snapshots), ['edge-realtime/realtime']);
    // a fresh instance has no memory of earlier applies: the hash annotations alone say "up to date"
    assert.is(scoped.rest.writeCount(), 0);
    // the hook for the webhook and config-stream servers
    assert.ok(context);
    assert.equal(
      context!.bag().ingressPools.map((p) => p.metadata.name),
      ['realtime'],
    );
    assert.is(context!.lastResult(), scoped.lastResult());
    assert.ok(context!.isLeader());
  } finally {
    await scoped.stop();
  }
  assert.equal(events.slice(0, 2).concat(events.slice(-1)), ['start', 'compiled', 'stop']);
});

test('a namespace losing its label loses its claim on the pool, and gets it back', async () => {
  await kubectlOk(cluster, ['label', 'namespace', 'storefront', 'product-line-']);
  await waitFor('the shop route to be refused', async () => {
    const r = await getJson(cluster, ['routesplit', 'shop', '-n', 'storefront']);
    return condition(r.status.parents[0], 'Accepted')?.reason === 'NotAllowedByPool';
  });
  await op.whenIdle();
  assert.equal((await snapshotOf('edge-storefront', 'storefront')).routes, []);
  assert.is((await pool('edge-storefront/storefront')).status.attachedRoutes, 0);
  await kubectlOk(cluster, ['label', 'namespace', 'storefront', 'product-line=storefront']);
  await waitFor('the shop route to be accepted again', async () => {
    const r = await getJson(cluster, ['routesplit', 'shop', '-n', 'storefront']);
    return condition(r.status.parents[0], 'Accepted')?.status === 'True';
  });
  await op.whenIdle();
  assert.is((await snapshotOf('edge-storefront', 'storefront')).routes.length, 3);
});

test("one object the API server refuses blocks neither its pool's other objects nor other pools; retried until it goes through", async () => {
  // A ValidatingAdmissionPolicy refuses exactly one ConfigMap: the bootstrap of pool "broken".
  await applyDocs(cluster, [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: 'refuse-broken-bootstrap' },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['configmaps'],
            },
          ],
        },
        validations: [
          {
            expression: "object.metadata.name != 'bulkhead-broken-bootstrap'",
            message: 'refused by the test policy',
          },
        ],
      },
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: 'refuse-broken-bootstrap' },
      spec: { policyName: 'refuse-broken-bootstrap', validationActions: ['Deny'] },
    },
  ]);
  const probe = JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'bulkhead-broken-bootstrap', namespace: 'edge-realtime' },
  });
  await waitFor(
    'the policy to be in force',
    async () => (await cluster.kubectl(['create', '--dry-run=server', '-f', '-'], probe)).code !== 0,
  );
  const errorsBefore =
    (await op.metrics.reconcileErrors.get()).values.find((v) => v.labels.kind === 'apply')?.value ?? 0;
  await applyDocs(cluster, [
    {
      apiVersion: 'bulkhead.dev/v1alpha1',
      kind: 'IngressPool',
      metadata: { name: 'broken', namespace: 'edge-realtime' },
      spec: { productLine: 'broken', replicas: 1, service: { type: 'ClusterIP' } },
    },
  ]);
  await waitFor('the rest of the broken pool to be applied', async () => {
    const r = await cluster.kubectl(['get', 'deployment', 'bulkhead-broken', '-n', 'edge-realtime']);
    return r.code === 0;
  });
  await waitFor('the refused apply to be retried', async () => {
    const v =
      (await op.metrics.reconcileErrors.get()).values.find((x) => x.labels.kind === 'apply')?.value ?? 0;
    return v >= errorsBefore + 2;
  });
  const missing = await cluster.kubectl([
    'get',
    'configmap',
    'bulkhead-broken-bootstrap',
    '-n',
    'edge-realtime',
  ]);
  assert.is.not(missing.code, 0, 'the refused ConfigMap does not exist');
  const broken = await pool('edge-realtime/broken');
  assert.is(condition(broken, 'Accepted').status, 'True', 'its status is written all the same');
  // the neighbour in the same namespace is untouched and still converged
  assert.ok(
    (await getJson(cluster, ['configmap', 'bulkhead-realtime-bootstrap', '-n', 'edge-realtime'])).data,
  );

  await kubectlOk(cluster, [
    'delete',
    'validatingadmissionpolicybinding,validatingadmissionpolicy',
    'refuse-broken-bootstrap',
  ]);
  await waitFor(
    'the retry to go through once the policy is gone',
    async () => {
      const r = await cluster.kubectl([
        'get',
        'configmap',
        'bulkhead-broken-bootstrap',
        '-n',
        'edge-realtime',
      ]);
      return r.code === 0;
    },
    30_000,
  );
  await kubectlOk(cluster, ['delete', 'ingresspool', 'broken', '-n', 'edge-realtime']);
  await waitFor('the broken pool to be pruned', async () => {
    const left = await getJson(cluster, [
      'deployments,configmaps',
      '-n',
      'edge-realtime',
      '-l',
      'bulkhead.dev/pool=broken',
    ]);
    return left.items.length === 0;
  });
});

test('deleting a pool prunes everything it owned; its route reports PoolNotFound', async () => {
  const prunedBefore = await op.metrics.total(op.metrics.prunes);
  await kubectlOk(cluster, ['delete', 'ingresspool', 'payments', '-n', 'edge-payments']);
  await waitFor('the payments objects to be gone', async () => {
    const left = await getJson(cluster, [
      'serviceaccounts,configmaps,services,deployments,daemonsets,horizontalpodautoscalers,poddisruptionbudgets',
      '-n',
      'edge-payments',
      '-l',
      'bulkhead.dev/pool=payments',
    ]);
    return left.items.length === 0;
  });
  assert.is((await op.metrics.total(op.metrics.prunes)) - prunedBefore, 6);
  const route = await waitFor('the payments route to lose its pool', async () => {
    const r = await getJson(cluster, ['routesplit', 'payment-api', '-n', 'payments']);
    return condition(r.status.parents[0], 'Accepted')?.reason === 'PoolNotFound' ? r : false;
  });
  assert.is(condition(route.status.parents[0], 'Accepted').status, 'False');
  // the other pools are untouched
  assert.ok(
    (await getJson(cluster, ['deployment', 'bulkhead-storefront', '-n', 'edge-storefront'])).metadata.uid,
  );

  const base = `http://127.0.0.1:${op.metricsPort}`;
  const metrics = await (await request(`${base}/metrics`)).body.text();
  assert.match(metrics, /bulkhead_operator_prune_total\{kind="Deployment"\} 2/); // broken + payments
  assert.match(
    metrics,
    /bulkhead_operator_snapshot_info\{pool="edge-storefront\/storefront",version="sha256:[0-9a-f]{64}"\} 1/,
  );
  assert.not.match(metrics, /snapshot_info\{pool="edge-payments\/payments"/);
  assert.match(metrics, /bulkhead_operator_leader 1/);
  assert.match(metrics, /bulkhead_operator_reconcile_duration_seconds_count \d+/);
  assert.is((await request(`${base}/readyz`)).statusCode, 200);
  assert.is((await request(`${base}/healthz`)).statusCode, 200);
});

test.run();
