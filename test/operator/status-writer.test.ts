// The status writer against an in-memory API (resourceVersion checks, 409s): skip-if-equal with no
// request, kept lastTransitionTime, stale verdicts dropped, conflict retries, leadership guard,
// Programmed from setProgrammed, Ready and addresses from the live workload and Service.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { routeConditions, type PoolVerdict, type RouteVerdict } from '../../src/compiler/conditions.ts';
import { KubeApiError, type KubeObject, type KubeRest } from '../../src/operator/kube-rest.ts';
import { LeadershipLostError, StatusWriter } from '../../src/operator/status-writer.ts';

class FakeApi {
  objects = new Map<string, KubeObject>();
  requests: string[] = [];
  conflictsToInject = 0;
  put(obj: KubeObject) {
    this.objects.set(`${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}`, structuredClone(obj));
  }
  async get(res: { kind: string }, ns: string, name: string) {
    this.requests.push(`get ${name}`);
    const o = this.objects.get(`${res.kind}/${ns}/${name}`);
    if (!o) throw new KubeApiError(404, 'NotFound', 'not found');
    return structuredClone(o);
  }
  async update(res: { kind: string }, obj: KubeObject, sub?: string) {
    this.requests.push(`update ${obj.metadata.name}/${sub}`);
    const key = `${res.kind}/${obj.metadata.namespace}/${obj.metadata.name}`;
    const cur = this.objects.get(key)!;
    if (this.conflictsToInject > 0) {
      this.conflictsToInject--;
      cur.metadata.resourceVersion = String(Number(cur.metadata.resourceVersion) + 1); // someone else wrote
    }
    if (cur.metadata.resourceVersion !== obj.metadata.resourceVersion)
      throw new KubeApiError(409, 'Conflict', 'conflict');
    const next = {
      ...cur,
      status: structuredClone(obj.status),
      metadata: { ...cur.metadata, resourceVersion: String(Number(cur.metadata.resourceVersion) + 1) },
    };
    this.objects.set(key, next);
    return structuredClone(next);
  }
}

const poolObj = (generation = 1): KubeObject => ({
  apiVersion: 'bulkhead.dev/v1alpha1',
  kind: 'IngressPool',
  metadata: { name: 'p', namespace: 'ns', generation, resourceVersion: '10' },
  spec: {},
});
const verdict = (generation = 1, version = 'sha256:aa'): PoolVerdict => ({
  observedGeneration: generation,
  conditions: [
    {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: 'pool accepted',
      observedGeneration: generation,
    },
  ],
  attachedRoutes: 2,
  configVersion: version,
});

function setup(opts: { leader?: boolean; useCache?: boolean } = {}) {
  const api = new FakeApi();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  let leader = opts.leader ?? true;
  const writes: string[] = [];
  const writer = new StatusWriter(api as unknown as KubeRest, {
    canWrite: () => leader,
    // a copy, as an informer's object is not the server's
    cached: (res, ns, name) => {
      const o = opts.useCache === false ? undefined : api.objects.get(`${res.kind}/${ns}/${name}`);
      return o && structuredClone(o);
    },
    onWrite: (kind) => writes.push(kind),
    now: () => clock,
  });
  return {
    api,
    writer,
    writes,
    tick: (ms: number) => (clock += ms),
    setLeader: (v: boolean) => (leader = v),
    status: () => api.objects.get('IngressPool/ns/p')!.status as any,
  };
}

const deployment = (ready: number, replicas: number): KubeObject => ({
  kind: 'Deployment',
  metadata: { name: 'bulkhead-p', namespace: 'ns' },
  spec: { replicas },
  status: { readyReplicas: ready },
});

test('first write: Accepted from the verdict, Programmed pending, Ready and addresses from the live objects', async () => {
  const { api, writer, status, writes } = setup();
  api.put(poolObj());
  const service = {
    kind: 'Service',
    metadata: { name: 'bulkhead-p' },
    spec: { clusterIP: '10.0.0.1' },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.com' }] } },
  };
  assert.is(
    await writer.writePool('ns/p', verdict(), { workload: deployment(1, 2), service: service as KubeObject }),
    true,
  );
  const st = status();
  assert.is(st.observedGeneration, 1);
  assert.equal(
    st.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]),
    [
      ['Accepted', 'True', 'Accepted', 'pool accepted'],
      ['Programmed', 'False', 'Pending', 'waiting for data planes to acknowledge sha256:aa'],
      ['Ready', 'False', 'ReplicasNotReady', '1/2 replicas ready'],
    ],
  );
  assert.ok(
    st.conditions.every(
      (c: any) => c.lastTransitionTime === '2026-01-01T00:00:00Z' && c.observedGeneration === 1,
    ),
  );
  assert.is(st.readyReplicas, 1);
  assert.is(st.attachedRoutes, 2);
  assert.is(st.configVersion, 'sha256:aa');
  assert.equal(st.addresses, [
    { type: 'IPAddress', value: '203.0.113.7' },
    { type: 'Hostname', value: 'lb.example.com' },
  ]);
  assert.equal(writes, ['IngressPool']);
});

test('an unchanged status is skipped without a single request', async () => {
  const { api, writer, tick } = setup();
  api.put(poolObj());
  await writer.writePool('ns/p', verdict(), { workload: deployment(0, 2) });
  api.requests.length = 0;
  tick(60_000);
  assert.is(await writer.writePool('ns/p', verdict(), { workload: deployment(0, 2) }), false);
  assert.equal(api.requests, []);
});

test('lastTransitionTime stays while a condition keeps its status, and moves when it flips', async () => {
  const { api, writer, tick, status } = setup();
  api.put(poolObj());
  await writer.writePool('ns/p', verdict(), { workload: deployment(0, 2) });
  tick(5_000);
  await writer.writePool('ns/p', verdict(), { workload: deployment(1, 2) }); // Ready still False, message changes
  let ready = status().conditions.find((c: any) => c.type === 'Ready');
  assert.is(ready.message, '1/2 replicas ready');
  assert.is(ready.lastTransitionTime, '2026-01-01T00:00:00Z');
  tick(5_000);
  await writer.writePool('ns/p', verdict(), { workload: deployment(2, 2) }); // Ready flips
  ready = status().conditions.find((c: any) => c.type === 'Ready');
  assert.is(ready.status, 'True');
  assert.is(ready.lastTransitionTime, '2026-01-01T00:00:10Z');
  const accepted = status().conditions.find((c: any) => c.type === 'Accepted');
  assert.is(accepted.lastTransitionTime, '2026-01-01T00:00:00Z');
});

test('a verdict for an older generation than the object has is dropped', async () => {
  const { api, writer } = setup({ useCache: false });
  api.put(poolObj(3));
  assert.is(await writer.writePool('ns/p', verdict(2), {}), false);
  assert.equal(api.requests, ['get p']);
  assert.is(api.objects.get('IngressPool/ns/p')!.status, undefined);
});

test('a 409 conflict re-reads and writes again', async () => {
  const { api, writer, status } = setup();
  api.put(poolObj());
  api.conflictsToInject = 2;
  assert.is(await writer.writePool('ns/p', verdict(), {}), true);
  // the first attempt uses the cached object; each conflict costs a fresh read
  assert.equal(api.requests, ['update p/status', 'get p', 'update p/status', 'get p', 'update p/status']);
  assert.is(status().configVersion, 'sha256:aa');
});

test('without leadership nothing is written', async () => {
  const { api, writer, setLeader } = setup();
  api.put(poolObj());
  setLeader(false);
  try {
    await writer.writePool('ns/p', verdict(), {});
    assert.unreachable('should refuse');
  } catch (err) {
    assert.instance(err, LeadershipLostError);
  }
  assert.not.ok(api.requests.some((r) => r.startsWith('update')));
});

test('setProgrammed: applies to the matching config version only', async () => {
  const { api, writer, status } = setup();
  api.put(poolObj());
  writer.setProgrammed('ns/p', {
    version: 'sha256:aa',
    status: 'True',
    reason: 'Programmed',
    message: '2/2 replicas run sha256:aa',
  });
  await writer.writePool('ns/p', verdict(1, 'sha256:aa'), {});
  let programmed = status().conditions.find((c: any) => c.type === 'Programmed');
  assert.equal(
    [programmed.status, programmed.reason, programmed.message],
    ['True', 'Programmed', '2/2 replicas run sha256:aa'],
  );
  // a new snapshot: the acknowledgement of the old one no longer counts
  await writer.writePool('ns/p', verdict(1, 'sha256:bb'), {});
  programmed = status().conditions.find((c: any) => c.type === 'Programmed');
  assert.equal([programmed.status, programmed.reason], ['False', 'Pending']);
});

test('a new leader keeps the Programmed verdict the object carries for the same config version', async () => {
  const first = setup();
  first.api.put(poolObj());
  first.writer.setProgrammed('ns/p', {
    version: 'sha256:aa',
    status: 'True',
    reason: 'Programmed',
    message: 'acknowledged',
  });
  await first.writer.writePool('ns/p', verdict(1, 'sha256:aa'), {});
  // another instance, fresh memory, same object
  const second = setup();
  second.api.objects = first.api.objects;
  assert.is(await second.writer.writePool('ns/p', verdict(1, 'sha256:aa'), {}), false);
  // but a new version is pending again
  await second.writer.writePool('ns/p', verdict(1, 'sha256:bb'), {});
  const programmed = (second.api.objects.get('IngressPool/ns/p')!.status as any).conditions.find(
    (c: any) => c.type === 'Programmed',
  );
  assert.is(programmed.reason, 'Pending');
});

test('route status: top-level aggregated conditions and parents, stamped; times kept per parent', async () => {
  const { api, writer, tick } = setup();
  api.put({
    kind: 'RouteSplit',
    metadata: { name: 'r', namespace: 'team', generation: 1, resourceVersion: '1' },
    spec: {},
  });
  const v = (status: 'True' | 'False', reason: string): RouteVerdict => {
    const parents = [
      {
        poolRef: { name: 'p', namespace: 'ns' },
        conditions: [{ type: 'Accepted', status, reason, message: reason }],
      },
    ];
    return { observedGeneration: 1, conditions: routeConditions(parents, 1), parents };
  };
  await writer.writeRoute('team/r', v('False', 'NotAllowedByPool'));
  tick(1000);
  await writer.writeRoute('team/r', v('False', 'PoolNotFound'));
  const st = api.objects.get('RouteSplit/team/r')!.status as any;
  assert.equal(st.parents[0].poolRef, { name: 'p', namespace: 'ns' });
  assert.is(st.parents[0].conditions[0].reason, 'PoolNotFound');
  assert.is(st.parents[0].conditions[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.equal(
    st.conditions.map((c: any) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]),
    [['Accepted', 'False', 'PoolNotFound', 'IngressPool ns/p: PoolNotFound', '2026-01-01T00:00:00Z']],
  );
  tick(1000);
  await writer.writeRoute('team/r', v('True', 'Accepted'));
  const ok = (api.objects.get('RouteSplit/team/r')!.status as any).conditions[0];
  assert.equal([ok.status, ok.reason, ok.message], ['True', 'Accepted', 'accepted by IngressPool ns/p']);
  assert.is(ok.lastTransitionTime, '2026-01-01T00:00:02Z');
});

test.run();
