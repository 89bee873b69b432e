// Event → affected pools, on plain objects (no cluster).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { affectedPools, type AffectedIndex } from '../../src/operator/affected-pools.ts';
import type { KubeObject } from '../../src/operator/kube-rest.ts';

const obj = (namespace: string | undefined, name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  ...extra,
  metadata: { name, ...(namespace ? { namespace } : {}), ...(extra.metadata ?? {}) },
});
const route = (ns: string, name: string, pool: { name: string; namespace?: string }, backends: string[]) =>
  obj(ns, name, {
    spec: { poolRef: pool, rules: [{ backends: backends.map((b) => ({ name: b, port: 80 })) }] },
  });

const pools = [obj('edge-a', 'a'), obj('edge-b', 'b')];
const routes = [
  route('team-a', 'shop', { name: 'a', namespace: 'edge-a' }, ['web', 'api']),
  route('team-b', 'pay', { name: 'b', namespace: 'edge-b' }, ['api']),
  route('edge-b', 'local', { name: 'b' }, ['web']),
];
const index: AffectedIndex = {
  pools: () => pools,
  routes: () => routes,
  route: (ns, name) => routes.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
};

test('a pool affects itself', () => {
  assert.equal(affectedPools('IngressPool', obj('edge-a', 'a'), undefined, index), ['edge-a/a']);
});

test("a route affects its poolRef pool, old and new (namespace defaults to the route's)", () => {
  const moved = route('team-a', 'shop', { name: 'b', namespace: 'edge-b' }, ['web']);
  assert.equal(affectedPools('RouteSplit', moved, routes[0], index), ['edge-a/a', 'edge-b/b']);
  assert.equal(affectedPools('RouteSplit', undefined, routes[2], index), ['edge-b/b']);
});

test('a policy affects its target pool, directly or through its target route', () => {
  const onPool = obj('edge-a', 'p', { spec: { targetRef: { kind: 'IngressPool', name: 'a' } } });
  const onRoute = obj('team-b', 'q', { spec: { targetRef: { kind: 'RouteSplit', name: 'pay' } } });
  const dangling = obj('team-b', 'r', { spec: { targetRef: { kind: 'RouteSplit', name: 'nope' } } });
  assert.equal(affectedPools('RateLimitPolicy', onPool, undefined, index), ['edge-a/a']);
  assert.equal(affectedPools('RateLimitPolicy', onRoute, undefined, index), ['edge-b/b']);
  assert.equal(affectedPools('RateLimitPolicy', dangling, undefined, index), []);
});

test('a Service or EndpointSlice affects the pools of routes in its namespace that reference it', () => {
  assert.equal(affectedPools('Service', obj('team-a', 'api'), undefined, index), ['edge-a/a']);
  assert.equal(affectedPools('Service', obj('team-c', 'api'), undefined, index), []);
  const slice = obj('team-b', 'api-x1', {
    metadata: { name: 'api-x1', labels: { 'kubernetes.io/service-name': 'api' } },
  });
  assert.equal(affectedPools('EndpointSlice', slice, undefined, index), ['edge-b/b']);
});

test('a Namespace label change affects every pool; other namespace changes none', () => {
  const ns = obj(undefined, 'team-a', { metadata: { name: 'team-a', labels: { x: '1' } } });
  const relabelled = obj(undefined, 'team-a', { metadata: { name: 'team-a', labels: { x: '2' } } });
  const annotated = obj(undefined, 'team-a', {
    metadata: { name: 'team-a', labels: { x: '1' }, annotations: { a: 'b' } },
  });
  assert.equal(affectedPools('Namespace', relabelled, ns, index), ['edge-a/a', 'edge-b/b']);
  assert.equal(affectedPools('Namespace', annotated, ns, index), []);
  assert.equal(affectedPools('Namespace', undefined, ns, index), ['edge-a/a', 'edge-b/b']);
});

test('an owned object (changed or deleted) affects the pool named in its label', () => {
  const labels = { 'bulkhead.dev/pool': 'a', 'app.kubernetes.io/managed-by': 'bulkhead' };
  const cm = obj('edge-a', 'bulkhead-a-bootstrap', { metadata: { name: 'bulkhead-a-bootstrap', labels } });
  assert.equal(affectedPools('ConfigMap', undefined, cm, index), ['edge-a/a']);
  assert.equal(affectedPools('Deployment', cm, cm, index), ['edge-a/a']);
  const foreign = obj('edge-a', 'x', { metadata: { name: 'x', labels: { 'bulkhead.dev/pool': 'a' } } });
  assert.equal(affectedPools('ConfigMap', foreign, undefined, index), []);
});

test.run();
