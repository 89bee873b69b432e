// The admission webhook behind a real kube-apiserver: the server runs in this process on
// 127.0.0.1 with a self-signed certificate, registered by URL with its CA bundle. The world it
// judges against is read from the cluster with kubectl (the operator's informers do this live).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bagFromDocuments, type ResourceBag } from '../../src/compiler/index.ts';
import { emptyBag } from '../../src/compiler/resources.ts';
import {
  buildValidatingWebhookConfiguration,
  createWebhookServer,
  generateWebhookCertificates,
  type WebhookServer,
} from '../../src/operator/webhook/index.ts';
import { startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { namespace, policy, pool, route, service } from '../webhook/world.ts';
import { installCrds, must } from './cluster.ts';

let cluster: TestCluster;
let webhook: WebhookServer;
let world: ResourceBag = emptyBag();

const apply = (obj: unknown) => cluster.kubectl(['apply', '-f', '-'], JSON.stringify(obj));
const create = (obj: unknown, ...flags: string[]) =>
  cluster.kubectl(['create', ...flags, '-f', '-'], JSON.stringify(obj));
const fresh = (o: any) => {
  delete o.metadata.creationTimestamp;
  delete o.metadata.generation;
  return o;
};

async function refreshWorld(): Promise<void> {
  const r = await must(
    cluster.kubectl([
      'get',
      'ingresspools,routesplits,ratelimitpolicies,services,namespaces',
      '-A',
      '-o',
      'json',
    ]),
    'read world',
  );
  world = bagFromDocuments(JSON.parse(r.stdout).items);
}

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: cluster, objects, webhook registered and called by the API server', async () => {
  cluster = await startTestCluster();
  // JSON, not crds/: this file is about the webhook, crds.test.ts about how the YAML files read
  await installCrds(cluster, 'json');
  for (const ns of ['edge', 'team-a', 'team-b']) await must(apply(namespace(ns)), `namespace ${ns}`);
  for (const obj of [
    pool('edge', 'shared'),
    pool('edge', 'private', 'Same'),
    service('team-a', 'api'),
    service('team-b', 'api'),
    route('team-a', 'shop'),
    policy('team-a', 'shop-limit', { kind: 'RouteSplit', name: 'shop' }),
  ]) {
    await must(apply(fresh(obj)), `apply ${(obj as any).kind}`);
  }
  await refreshWorld();

  const certs = await generateWebhookCertificates({ hosts: ['127.0.0.1'] });
  webhook = await createWebhookServer({
    key: certs.key,
    cert: certs.cert,
    port: 0,
    host: '127.0.0.1',
    world: () => world,
  });
  const config = buildValidatingWebhookConfiguration({
    url: `https://127.0.0.1:${webhook.port}/validate`,
    caBundlePem: certs.caCert,
  });
  await must(apply(config), 'register the ValidatingWebhookConfiguration');
  // The API server picks up webhook configurations through an informer: wait until it calls us.
  const probe = fresh(route('team-b', 'probe'));
  for (let i = 0; i < 100; i++) {
    const r = await create(probe, '--dry-run=server');
    if (r.code !== 0 && r.stderr.includes('already served by older RouteSplit')) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.unreachable('the API server never called the webhook');
});

test.after(async () => {
  await webhook?.close();
  await cluster?.stop();
});

test('a RouteSplit claiming an older route’s host+path from another namespace is denied, naming the winner', async () => {
  const r = await create(fresh(route('team-b', 'copycat')));
  assert.is.not(r.code, 0, r.stdout);
  assert.match(r.stderr, /The RouteSplit "copycat" is invalid/);
  assert.match(
    r.stderr,
    /spec\.rules\[0\]\.matches\[0\]\.path: host shop\.example\.com path PathPrefix \/api is already served by older RouteSplit team-a\/shop/,
  );
});

test('a RouteSplit claiming a pool that does not allow its namespace is denied', async () => {
  const r = await create(fresh(route('team-b', 'sneaky', { pool: 'private', path: '/b' })));
  assert.is.not(r.code, 0, r.stdout);
  assert.match(
    r.stderr,
    /spec\.poolRef: IngressPool edge\/private does not allow routes from namespace team-b/,
  );
});

test('a second RateLimitPolicy on the same target is denied', async () => {
  const r = await create(fresh(policy('team-a', 'second-limit', { kind: 'RouteSplit', name: 'shop' })));
  assert.is.not(r.code, 0, r.stdout);
  assert.match(
    r.stderr,
    /spec\.targetRef: RouteSplit team-a\/shop already has RateLimitPolicy team-a\/shop-limit/,
  );
});

test('a valid RouteSplit is admitted; a missing backend Service comes back as a kubectl warning', async () => {
  const r = await create(fresh(route('team-b', 'checkout', { path: '/checkout', backend: 'checkout' })));
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /routesplit\.bulkhead\.dev\/checkout created/);
  assert.match(
    r.stderr,
    /Warning: spec\.rules\[0\]\.backends\[0\]: rule main: Service team-b\/checkout not found/,
  );
});

test('with the webhook stopped, creates still succeed (failurePolicy Ignore); the schema still holds', async () => {
  await webhook.close();
  const r = await create(fresh(route('team-b', 'while-down')));
  assert.is(r.code, 0, `a conflicting route should be admitted while the webhook is down: ${r.stderr}`);
  const bad = fresh(route('team-b', 'bad-weight', { path: '/w' }));
  bad.spec.rules[0].backends[0].weight = -1;
  const rejected = await create(bad);
  assert.is.not(rejected.code, 0);
  assert.match(rejected.stderr, /spec\.rules\[0\]\.backends\[0\]\.weight/);
});

test.run();
