// provisionWebhookTls against a real kube-apiserver with dist/install.yaml applied: the first
// start makes the Secret and injects the caBundle, later starts reuse it, racing replicas end up
// with one certificate, and a certificate for the wrong host or near expiry is replaced.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { Agent, request } from 'undici';
import { emptyBag } from '../../src/compiler/resources.ts';
import type { OperatorContext } from '../../src/operator/operator.ts';
import {
  certificateProblem,
  generateWebhookCertificates,
  parseListenAddr,
  webhookExtraServer,
  provisionWebhookTls,
  type TlsProvisionOptions,
} from '../../src/operator/webhook/index.ts';
import { createClientConfig, startTestCluster, type TestCluster } from '../cluster/harness.ts';
import { must, REPO } from './cluster.ts';

let cluster: TestCluster;
let kc: KubeConfig;
const opts: TlsProvisionOptions = {
  namespace: 'bulkhead-system',
  secretName: 'bulkhead-webhook-tls',
  serviceName: 'bulkhead-webhook',
  webhookConfigName: 'bulkhead',
};
const HOST = 'bulkhead-webhook.bulkhead-system.svc';

async function caBundle(): Promise<string> {
  const r = await must(
    cluster.kubectl([
      'get',
      'validatingwebhookconfiguration',
      'bulkhead',
      '-o',
      'jsonpath={.webhooks[0].clientConfig.caBundle}',
    ]),
    'get vwc',
  );
  return Buffer.from(r.stdout, 'base64').toString();
}
const deleteSecret = () =>
  cluster.kubectl([
    'delete',
    'secret',
    '-n',
    'bulkhead-system',
    'bulkhead-webhook-tls',
    '--ignore-not-found',
  ]);

// Setup is a test, not a before hook: uvu does not count a failing hook as a failure.
test('setup: a cluster with dist/install.yaml applied', async () => {
  cluster = await startTestCluster();
  await must(cluster.kubectl(['apply', '-f', `${REPO}dist/install.yaml`]), 'apply install.yaml');
  kc = createClientConfig(cluster);
  assert.is(await caBundle(), '', 'install.yaml ships without a caBundle');
});

test.after(async () => {
  await cluster?.stop();
});

test('first start makes the Secret and injects the caBundle; the next start reuses both', async () => {
  const first = await provisionWebhookTls(kc, opts);
  assert.is(first.source, 'generated');
  assert.is(certificateProblem(first, HOST), null);
  assert.is(await caBundle(), first.caCert);
  const secret = JSON.parse(
    (
      await must(
        cluster.kubectl(['get', 'secret', '-n', 'bulkhead-system', 'bulkhead-webhook-tls', '-o', 'json']),
        'get secret',
      )
    ).stdout,
  );
  assert.is(secret.type, 'kubernetes.io/tls');
  assert.equal(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  const again = await provisionWebhookTls(kc, opts);
  assert.is(again.source, 'secret');
  assert.is(again.cert, first.cert);
});

test('two replicas starting together end up serving the same certificate', async () => {
  await must(deleteSecret(), 'delete secret');
  const [a, b] = await Promise.all([provisionWebhookTls(kc, opts), provisionWebhookTls(kc, opts)]);
  // the create is atomic: the loser gets 409 Conflict, reads the winner's Secret and adopts it
  assert.equal([a.source, b.source].filter((s) => s === 'generated').length >= 1, true);
  assert.is(a.cert, b.cert);
  const stored = await provisionWebhookTls(kc, opts);
  assert.is(stored.source, 'secret');
  assert.is(stored.cert, a.cert);
  assert.is(await caBundle(), a.caCert);
});

test('a certificate for another host, or close to expiry, is replaced', async () => {
  const wrong = await generateWebhookCertificates({ hosts: ['elsewhere.example.com'] });
  await must(deleteSecret(), 'delete secret');
  await must(
    cluster.kubectl([
      'create',
      'secret',
      'generic',
      'bulkhead-webhook-tls',
      '-n',
      'bulkhead-system',
      '--type=kubernetes.io/tls',
      `--from-literal=tls.crt=${wrong.cert}`,
      `--from-literal=tls.key=${wrong.key}`,
      `--from-literal=ca.crt=${wrong.caCert}`,
    ]),
    'store a wrong certificate',
  );
  assert.match(certificateProblem(wrong, HOST)!, /does not name/);
  const fixed = await provisionWebhookTls(kc, opts);
  assert.is(fixed.source, 'generated');
  assert.is(await caBundle(), fixed.caCert);
  const inTenMonths = () => new Date(Date.now() + 340 * 86_400_000);
  assert.match(certificateProblem(fixed, HOST, { now: inTenMonths })!, /renewal window/);
  const renewed = await provisionWebhookTls(kc, { ...opts, now: inTenMonths });
  assert.is(renewed.source, 'generated');
  assert.is.not(renewed.cert, fixed.cert);
});

test('mounted files win when they are good', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bh-webhook-files-'));
  try {
    const current = await provisionWebhookTls(kc, opts);
    await writeFile(join(dir, 'tls.crt'), current.cert);
    await writeFile(join(dir, 'tls.key'), current.key);
    await writeFile(join(dir, 'ca.crt'), current.caCert);
    const fromFiles = await provisionWebhookTls(kc, { ...opts, certDir: dir });
    assert.is(fromFiles.source, 'files');
    assert.is(fromFiles.cert, current.cert);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('as an operator extra server: provisions, then serves admission over TLS with the stored certificate', async () => {
  const bag = () => ({ ...emptyBag(), namespaces: [] });
  const ctx = { kubeConfig: kc, bag, logger: pino({ level: 'silent' }) } as unknown as OperatorContext;
  const extra = webhookExtraServer({ ...opts, addr: '127.0.0.1:0' });
  await extra.start(ctx);
  const agent = new Agent({ connect: { ca: extra.tls()!.caCert, servername: HOST } });
  try {
    assert.is(await caBundle(), extra.tls()!.caCert);
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'x', operation: 'DELETE', kind: { kind: 'RouteSplit' } },
    };
    const res = await request(`https://127.0.0.1:${extra.port()}/validate`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
    });
    assert.is(((await res.body.json()) as any).response.allowed, true);
  } finally {
    await agent.close();
    await extra.stop();
  }
  assert.is(parseListenAddr(':9443').host, '0.0.0.0');
  assert.equal(parseListenAddr('[::1]:9443'), { host: '::1', port: 9443 });
});

test.run();
